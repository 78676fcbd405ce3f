"""With an rfconsole.toml the console listens for switches: a switch connecting shows as 'up' in
its VM's row, and the booter starts the VM mapped to it (rfvmA for datapath 5)."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

from rfconsole.ondemand.simswitch import SimulatedSwitch
from rfconsole.tui.app import RfconsoleApp
from rfconsole.tui.launch import build_context, start_ondemand
from rfconsole.virt.demo import demo_uri
from tests.tui.conftest import wait_until
from tests.tui.test_domains import state_of, table


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def switch_cell(app, name: str) -> str:
    t = table(app)
    for index in range(t.row_count):
        row = t.get_row_at(index)
        if str(row[1]) == name:
            return str(row[9])
    return ""


async def test_a_switch_connecting_shows_up_and_boots_its_vm(workdir: Path) -> None:
    port = free_port()
    (workdir / "rfconsole.toml").write_text(
        f'[hosts]\nlab = "{demo_uri()}"\n\n[ondemand]\nlisten = "127.0.0.1:{port}"\n\n[ondemand.map]\n"5" = ["rfvmA"]\n'
    )
    context = build_context(argparse.Namespace(workdir=workdir, demo=False, connect=None))
    start_ondemand(context)
    assert context.switches is not None and not context.startup_problems
    switch = SimulatedSwitch(5)
    try:
        app = RfconsoleApp(context, poll_seconds=0)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: table(app).row_count >= 4, "the table")
            assert switch_cell(app, "rfvmA") == "dp 5 down"
            await switch.connect("127.0.0.1", port)
            await wait_until(pilot, lambda: switch_cell(app, "rfvmA") == "dp 5 up", "the switch up in rfvmA's row")
            await wait_until(pilot, lambda: state_of(app, "rfvmA") == "running", "rfvmA booted on demand", timeout=10)
            assert state_of(app, "rfvmB") == "shut off"
            await switch.close()
            await wait_until(pilot, lambda: switch_cell(app, "rfvmA") == "dp 5 down", "the switch down again")
    finally:
        context.switches.stop()
        context.fleet.close()


async def test_a_busy_port_is_told_and_the_console_opens_anyway(workdir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        (workdir / "rfconsole.toml").write_text(f'[hosts]\nlab = "{demo_uri()}"\n\n[ondemand]\nlisten = "127.0.0.1:{port}"\n')
        context = build_context(argparse.Namespace(workdir=workdir, demo=False, connect=None))
        start_ondemand(context)
    try:
        assert context.switches is None and len(context.startup_problems) == 1
        app = RfconsoleApp(context, poll_seconds=0)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: table(app).row_count >= 4, "the table")
            assert any(str(port) in n.message for n in app._notifications)
    finally:
        context.fleet.close()
