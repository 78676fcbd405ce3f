"""The faces' API (OnDemand in a background thread) and `rfconsole watch`, on the demo driver."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rfconsole.config import Config
from rfconsole.errors import RfconsoleError
from rfconsole.ondemand.listener import ListenerSettings
from rfconsole.ondemand.registry import SwitchEventKind
from rfconsole.ondemand.service import OnDemand
from rfconsole.ondemand.simswitch import SimulatedSwitch
from rfconsole.store import Store, Workdir
from rfconsole.virt.events import DomainState
from rfconsole.virt.fleet import Fleet

RFCONSOLE = Path(sys.executable).with_name("rfconsole")


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "rfconsole.toml").write_text('[ondemand]\nlisten = "127.0.0.1:6653"\n[ondemand.map]\n"5" = ["rfvmA"]\n"6" = ["rfvmB"]\n')
    return Workdir(tmp_path)


@pytest.fixture
def fleet(workdir):
    fleet = Fleet(Config.load(workdir), Store(workdir), demo=True)
    yield fleet
    fleet.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def connect_switch(address: tuple[str, int], datapath_id: int, hold: float = 0.0) -> None:
    """A simulated switch, from this (non-asyncio) thread: connect, hold, close."""

    async def run() -> None:
        switch = SimulatedSwitch(datapath_id)
        await switch.connect(*address)
        await asyncio.sleep(hold)
        await switch.close()

    asyncio.run(run())


def test_background_service_boots_lists_switches_and_toggles(fleet, workdir):
    service = OnDemand(fleet, fleet.store, fleet.config.ondemand, listen=("127.0.0.1", 0))
    heard, boots = [], []
    service.subscribe(heard.append)
    service.subscribe_boots(boots.append)
    address = service.start_in_thread()
    try:
        assert address[1] != 0
        held = threading.Thread(target=connect_switch, args=(address, 5, 0.5))
        held.start()
        deadline = time.monotonic() + 5
        while not service.switches():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        [switch] = service.switches()
        assert (switch.datapath_id, switch.vms, switch.address.startswith("127.0.0.1:")) == (5, ("rfvmA",), True)
        held.join()
        assert service.booter.wait_idle(10)
        assert fleet.status("rfvmA").state is DomainState.RUNNING
        assert [(record.vm, record.outcome) for record in boots] == [("rfvmA", "started")]
        deadline = time.monotonic() + 5
        while len(heard) < 2 and time.monotonic() < deadline:  # the listener sees the close a moment later
            time.sleep(0.01)
        assert [event.kind for event in heard] == [SwitchEventKind.UP, SwitchEventKind.DOWN]

        assert service.toggle() is False and service.enabled is False
        connect_switch(address, 6)
        assert service.booter.wait_idle(10)
        assert fleet.status("rfvmB").state is DomainState.SHUTOFF
    finally:
        service.stop()
    assert service.switches() == []


def test_busy_port_is_reported_by_start_in_thread(fleet):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        service = OnDemand(fleet, fleet.store, fleet.config.ondemand, listen=("127.0.0.1", port))
        with pytest.raises(RfconsoleError, match=f"cannot listen for OpenFlow switches on 127.0.0.1:{port}"):
            service.start_in_thread()
        service.stop()


def test_listener_settings_keep_the_listen_override(fleet):
    service = OnDemand(fleet, fleet.store, fleet.config.ondemand, listen=("::1", 7), listener_settings=ListenerSettings(max_connections=3))
    assert (service.listener.settings.host, service.listener.settings.port, service.listener.settings.max_connections) == ("::1", 7, 3)
    service.stop()


def test_watch_command_boots_on_a_switch_and_stops_cleanly_on_sigterm(workdir):
    port = free_port()
    process = subprocess.Popen(
        [str(RFCONSOLE), "--workdir", str(workdir.root), "--demo", "watch", "--listen", f"127.0.0.1:{port}"],
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stderr.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 15
        while not any("watching for OpenFlow switches" in line for line in lines):
            assert process.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.02)
        connect_switch(("127.0.0.1", port), 5, hold=0.2)
        while not any("rfvmA: running at +" in line for line in lines):
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.02)
    finally:
        os.kill(process.pid, signal.SIGTERM)
        code = process.wait(15)
        reader.join(5)
    text = "".join(lines)
    assert code == 0, text
    assert "switch 0000000000000005 -> rfvmA" in text and "rfvmA: start issued at +" in text
    assert "stopped watching" in text and "Traceback" not in text


@pytest.mark.parametrize(("options", "message"), [(["--listen", "nowhere"], "is not HOST:PORT"), (["--routeflow-config", "missing.csv"], "missing.csv")])
def test_watch_refuses_bad_options_in_words(workdir, options, message):
    result = subprocess.run(
        [str(RFCONSOLE), "--workdir", str(workdir.root), "--demo", "watch", *options], capture_output=True, text=True, timeout=30
    )
    assert result.returncode in (1, 2) and message in result.stderr and "Traceback" not in result.stderr


def wait_for_boot(boots: list, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(boots) < count:  # the listener hands the switch to the booter a moment after the switch's hello
        assert time.monotonic() < deadline, f"{count - len(boots)} boot decisions missing: {boots}"
        time.sleep(0.01)


def test_rfvmE_added_with_its_csv_rows_while_watching_boots_when_switch_9_connects(fleet, workdir, caplog):
    from rfconsole.cli import main

    caplog.set_level(logging.INFO, logger="rfconsole.ondemand")
    csv_file = workdir.root / "rftest2.csv"
    csv_file.write_text("vm_id,vm_port,ct_id,dp_id,dp_port\n2A0A0A0A0A0,1,0,5,1\n")
    service = OnDemand(fleet, fleet.store, fleet.config.ondemand, routeflow_config=csv_file, listen=("127.0.0.1", 0))
    boots = []
    service.subscribe_boots(boots.append)
    address = service.start_in_thread()
    try:
        connect_switch(address, 9)
        wait_until_logged(caplog, "switch 0000000000000009 up: mapped to no VM, nothing to do")
        assert main(["--workdir", str(workdir.root), "xml", "new", "--hypervisor", "test", "--preset", "rfvmE", "--routeflow-config", str(csv_file)]) == 0
        workdir.image("h5.img").parent.mkdir(exist_ok=True)
        workdir.image("h5.img").write_bytes(b"")  # a VM whose image is missing is not started, even on the test driver
        assert not fleet.has_domain("rfvmE")  # the demo host knows rfvmA–rfvmD only
        connect_switch(address, 9)
        wait_for_boot(boots, 1)
        assert service.booter.wait_idle(10)
        assert fleet.status("rfvmE").state is DomainState.RUNNING
        assert [(record.vm, record.outcome) for record in boots] == [("rfvmE", "defined and started")]
        assert "switch map is read again: switch 0000000000000005 -> rfvmA; switch 0000000000000006 -> rfvmB; switch 0000000000000009 -> rfvmE" in caplog.text
        assert "switch 0000000000000009 -> rfvmE" in service.describe_mapping()

        csv_file.write_text("not,routeflow\n")  # broken while watching: the map read last stays
        connect_switch(address, 9)
        wait_for_boot(boots, 2)
        assert boots[1].outcome == "already running" and "the previous one stays" in caplog.text
    finally:
        service.stop()


def wait_until_logged(caplog, words: str) -> None:
    deadline = time.monotonic() + 10
    while words not in caplog.text:
        assert time.monotonic() < deadline, f"never logged {words!r}: {caplog.text}"
        time.sleep(0.01)
