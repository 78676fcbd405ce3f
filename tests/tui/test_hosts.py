"""Issue 17 item 6: an unreachable host never looks like an empty lab. Its state (down since,
retrying in) and URI stay on the home screen, and XML/'s VMs are listed, in state unknown."""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.kinds import Hypervisor
from rfconsole.model.rftest2 import RFTEST2_VMS, preset_spec
from rfconsole.store import Store, Workdir
from rfconsole.tui import fleetview
from rfconsole.tui.app import RfconsoleApp
from rfconsole.tui.launch import build_context
from rfconsole.virt.events import HostState
from tests.tui.conftest import notifications, wait_until
from tests.tui.test_domains import state_of

UNREACHABLE = "qemu+tcp://127.0.0.1:1/system"  # nothing listens on port 1


def host_line_text(app: RfconsoleApp) -> str:
    return str(app.screen.query_one("#hosts").render())


async def test_an_unreachable_host_is_said_down_with_its_uri_and_xml_vms_are_listed_as_unknown(workdir: Path) -> None:
    folder = Workdir(workdir)
    for name in ("rfvmA", "rfvmB"):
        Store(folder).save(DomainDocument.from_spec(preset_spec(RFTEST2_VMS[name], Hypervisor.QEMU, folder)))
    context = build_context(argparse.Namespace(workdir=workdir, demo=False, connect=UNREACHABLE))
    app = RfconsoleApp(context, poll_seconds=1)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: "retrying in" in host_line_text(app), "the host line saying it retries")
            line = host_line_text(app)
            assert UNREACHABLE in line and re.search(r"down since \d\d:\d\d:\d\d, retrying in \d+ s", line), line
            await wait_until(pilot, lambda: app.screen.query_one("DomainTable").row_count == 2, "XML/'s VMs listed")
            assert state_of(app, "rfvmA") == "unknown" and state_of(app, "rfvmB") == "unknown"
            # once every notification has faded the line still says it
            app.clear_notifications()
            await pilot.pause(1.2)
            assert "down since" in host_line_text(app) and UNREACHABLE in host_line_text(app)
            # an operation on a VM whose host is down says so, before anything is asked
            await pilot.press("s")
            await wait_until(pilot, lambda: any("cannot be reached" in n for n in notifications(app)), "the refusal")
    finally:
        context.fleet.close()


async def test_the_demo_host_is_said_connected(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "connected" in host_line_text(app), "the host line")
        assert "demo" in host_line_text(app)


def test_the_host_line_fits_80_columns_with_several_hosts() -> None:
    now = time.time()
    states = [
        HostState("local", "qemu:///system", True, False),
        HostState("lab2", "qemu+ssh://root@lab2.example.org/system", False, False, "Connection refused", now - 30, now + 4),
        HostState("lab3", "qemu+ssh://root@lab3.example.org/system", False, False, None, now - 90, None),
        HostState("lxc", "lxc:///system", False, False),
    ]
    full = fleetview.host_line(states, now, 400).plain
    assert "qemu+ssh://root@lab2.example.org/system" in full and "retrying in 4 s" in full and "connecting…" in full
    for width in (80, 60):
        line = fleetview.host_line(states, now, width).plain
        assert len(line) <= width, line
        for name in ("local", "lab2", "lab3", "lxc"):
            assert name in line, line  # every host named, the words shortened
    line = fleetview.host_line(states[:2], now, 80).plain
    assert "lab2 down since" in line and "retrying in 4 s" in line, line  # two hosts: still the long words
