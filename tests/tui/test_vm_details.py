"""The details view of one VM on the demo driver: state and reason, resources, each NIC with its
Open vSwitch port and the OpenFlow switch port from RouteFlow's CSV, the XML/ file against
libvirt's definition, and the VM's lifecycle events as they come."""

from __future__ import annotations

import argparse

import pytest

from rfconsole.tui.app import RfconsoleApp
from rfconsole.tui.launch import build_context
from rfconsole.tui.screens.vmdetails import VmDetailsScreen
from tests.tui.conftest import wait_until


@pytest.fixture
def routeflow_workdir(workdir):
    (workdir / "rftest2config.csv").write_text("vm_id,vm_port,ct_id,dp_id,dp_port\n2A0A0A0A0A0,1,0,5,1\n2A0A0A0A0A0,2,0,5,2\n")
    (workdir / "rfconsole.toml").write_text('[ondemand]\nrouteflow_config = "rftest2config.csv"\n')
    return workdir


async def test_details_of_a_vm_follow_its_events(routeflow_workdir) -> None:
    context = build_context(argparse.Namespace(workdir=routeflow_workdir, demo=True, connect=None))
    app = RfconsoleApp(context, poll_seconds=0)
    try:
        async with app.run_test(size=(160, 60)) as pilot:
            await wait_until(pilot, lambda: app.screen.query("DomainTable") and app.screen.query_one("DomainTable").row_count >= 4, "rows")
            await pilot.press("i")  # rfvmA: the first row
            await wait_until(pilot, lambda: isinstance(app.screen, VmDetailsScreen) and app.screen.details is not None, "the details")
            text = _all_text(app.screen)
            assert "shut off" in text and "(unknown)" not in text and "demo (test:///" in text
            assert "1 defined, — live" in text and "512 MiB defined" in text
            assert "rfvmA.1 on dp0" in text and "0000000000000005:1" in text and "0000000000000005:2" in text
            assert "02:a0:a0:a0:a0:a0" in text and "no file in XML/ defines this VM" in text
            assert "Disk read, write" in text and "measured from the next refresh on" in text
            await pilot.press("ctrl+r")  # a second reading: rates between the two (the test driver's counters stay 0)
            await wait_until(pilot, lambda: "0 B/s, 0 B/s" in _all_text(app.screen), "the disk and network rates")

            context.fleet.start("rfvmA")
            await wait_until(pilot, lambda: "running (booted)" in _all_text(app.screen), "the new state", timeout=10)
            text = _all_text(app.screen)
            assert "started (booted)" in text and "1 defined, 1 live" in text
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, VmDetailsScreen), "the table again")
    finally:
        context.fleet.close()


def _all_text(screen) -> str:
    from rich.console import Console

    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    for renderable in screen.shown.values():
        console.print(renderable)
    return console.export_text()
