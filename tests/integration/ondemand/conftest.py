"""Real Open vSwitch bridges pointed at a real `rfconsole watch` that boots real QEMU guests.

Bridges made here are named ``rfod…`` and removed after each test. The VMs are rftest2's
rfvmA–rfvmD as tiny TCG guests whose one NIC carries rftest2's eth0 MAC (the vm_id of
RouteFlow's CSV) and sits on the userspace bridge dp0.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from rfconsole.model.rftest2 import RFTEST2_VMS, vm_id_from_mac
from rfconsole.model.spec import Interface
from rfconsole.store import Workdir
from tests.integration.conftest import (
    DATA_BRIDGE,
    QEMU_URI,
    RFCONSOLE,
    Guest,
    rftest2_spec,
    save_spec,
)

BRIDGE_PREFIX = "rfod"


def ovs_vsctl(*args: str) -> str:
    result = subprocess.run(["ovs-vsctl", "--timeout=10", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"ovs-vsctl {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def remove_test_bridges() -> None:
    for bridge in ovs_vsctl("list-br").split():
        if bridge.startswith(BRIDGE_PREFIX):
            ovs_vsctl("--if-exists", "del-br", bridge)


class Bridges:
    """Open vSwitch userspace bridges with a chosen datapath id."""

    def add(self, datapath_id: int, *controllers: str, protocols: str | None = None) -> str:
        name = f"{BRIDGE_PREFIX}{datapath_id:x}"
        settings = ["datapath_type=netdev", f"other-config:datapath-id={datapath_id:016x}"]
        if protocols:
            settings.append(f"protocols={protocols}")
        ovs_vsctl("--may-exist", "add-br", name, "--", "set", "bridge", name, *settings)
        if controllers:
            ovs_vsctl("set-controller", name, *controllers)
        return name

    def controllers(self, bridge: str) -> dict[str, dict[str, str]]:
        """target -> {role, is_connected} as Open vSwitch reports them."""
        table: dict[str, dict[str, str]] = {}
        for uuid in ovs_vsctl("get", "bridge", bridge, "controller").strip("[]\n ").split(", "):
            if not uuid:
                continue
            row = {
                column: ovs_vsctl("get", "controller", uuid, column).strip().strip('"')
                for column in ("target", "role", "is_connected")
            }
            table[row.pop("target")] = row
        return table


@pytest.fixture
def bridges(daemons: None) -> Iterator[Bridges]:
    remove_test_bridges()
    yield Bridges()
    remove_test_bridges()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def ondemand_workdir(workdir: Workdir, guest: Guest, dp0_bridge: str, clean_libvirt: None) -> Workdir:
    """XML/ with rfvmA–rfvmD (tiny TCG guests, eth0 MAC on dp0), not defined in libvirt, and
    RouteFlow's CSV for them at rftest2config.csv (rfvmA -> switch 5 … rfvmD -> 8)."""
    rows = ["vm_id,vm_port,ct_id,dp_id,dp_port"]
    for name, vm in RFTEST2_VMS.items():
        nic = Interface(mac=vm.eth0_mac, bridge=DATA_BRIDGE, virtualport="openvswitch")
        save_spec(workdir, rftest2_spec(name, guest, workdir, with_nics=False).with_changes(interfaces=(nic,)))
        rows += [f"{vm_id_from_mac(vm.eth0_mac):X},{port},0,{vm.datapath_id:X},{port}" for port in range(1, len(vm.data_macs) + 1)]
    (workdir.root / "rftest2config.csv").write_text("\n".join(rows) + "\n")
    return workdir


class Watch:
    """`rfconsole watch` as a user runs it, its stderr collected line by line."""

    def __init__(self, workdir: Workdir, *options: str, connect: str | None = QEMU_URI) -> None:
        """``connect`` None: the hosts of the folder's rfconsole.toml."""
        self.port = free_port()
        self.target = f"tcp:127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [
                str(RFCONSOLE), "--workdir", str(workdir.root), *(["--connect", connect] if connect else []), "watch",
                "--routeflow-config", str(workdir.root / "rftest2config.csv"), "--listen", f"127.0.0.1:{self.port}", *options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=lambda: self.lines.extend(iter(self.process.stderr.readline, "")), daemon=True)
        self._reader.start()
        self.wait_for("watching for OpenFlow switches")

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, words: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            for line in list(self.lines):
                if words in line:
                    return line
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`rfconsole watch` never said {words!r} (exit {self.process.poll()}); it said:\n{self.text}")
            time.sleep(0.02)

    def stop(self) -> int:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            code = self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(10)
        self._reader.join(5)
        return code


@pytest.fixture
def watch(ondemand_workdir: Workdir, bridges: Bridges) -> Iterator[Watch]:
    running = Watch(ondemand_workdir)
    yield running
    remove_test_bridges()  # the switches go first, so nothing reconnects while watch stops
    code = running.stop()
    assert code == 0, running.text
    assert "Traceback" not in running.text, running.text
