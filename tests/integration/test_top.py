"""`rfconsole top` on the real libvirtd and a real TCG guest (issue 21): CPU % from one
getAllDomainStats call per host per tick follows what the guest does, and the bytes its NIC sends
show on its Open vSwitch port."""

from __future__ import annotations

import json
import subprocess

import pytest

from .conftest import (
    QEMU_URI,
    READY_MARKER,
    SerialConsole,
    rftest2_spec,
    run_cli,
    save_spec,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_libvirt")]


def top_once(workdir) -> dict[str, dict]:
    result = run_cli("--workdir", str(workdir.root), "--connect", QEMU_URI, "top", "--once", "--json", timeout=3)
    assert result.returncode == 0, result.stdout + result.stderr
    return {vm["name"]: vm for vm in json.loads(result.stdout)}


def test_top_shows_a_busy_guest_busy_an_idle_one_idle_and_its_nic_bytes_on_its_port(workdir, guest, dp0_bridge):
    spec = rftest2_spec("rfvmA", guest, workdir)  # the tiny guest's kernel drives virtio NICs only
    save_spec(workdir, spec.with_changes(interfaces=tuple(nic.model_copy(update={"model": "virtio"}) for nic in spec.interfaces)))
    up = run_cli("--workdir", str(workdir.root), "--connect", QEMU_URI, "up", "rfvmA")
    assert up.returncode == 0, up.stdout + up.stderr
    with SerialConsole(QEMU_URI, "rfvmA") as console:
        console.read_until(READY_MARKER)
        console.read_until("rfguest# ", timeout=10)
        idle = top_once(workdir)["rfvmA"]  # within 3 s: run_cli's timeout
        assert idle["state"] == "running" and idle["cpu_percent"] <= 5.0, idle
        assert idle["memory_mib"] and idle["memory_mib"] > 0, idle

        # the guest's first data NIC up, then ARP requests for an address nobody holds: bytes sent
        ports = subprocess.run(["ovs-vsctl", "list-ports", dp0_bridge], capture_output=True, text=True, check=True).stdout.split()
        sent_before = {nic["device"]: nic["tx_bytes"] for nic in idle["nics"]}
        assert sent_before and set(sent_before) <= set(ports), (sent_before, ports)
        start = len(console.output)
        console.send("ip link set eth0 up; ip addr add 10.213.0.2/24 dev eth0; ping -c 3 -i 0.2 10.213.0.9 >/dev/null 2>&1; echo PING''ED")
        console.read_until("PINGED", timeout=20, start=start)
        # a busy loop in the background: the guest's one vCPU spins
        console.send("while :; do :; done &")
        busy = top_once(workdir)["rfvmA"]
        assert busy["cpu_percent"] >= 80.0, busy
        first_nic = busy["nics"][0]
        assert first_nic["device"] in ports
        assert first_nic["tx_bytes"] > sent_before[first_nic["device"]], (sent_before, busy["nics"])
        counted_by_ovs = subprocess.run(
            ["ovs-vsctl", "get", "Interface", first_nic["device"], "statistics:rx_bytes"], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert int(counted_by_ovs) > 0  # what the guest sent, the switch port received
