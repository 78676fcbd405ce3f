"""`rfconsole clone rfvmA rfvmE` on the real libvirtd: the fifth router of rftest2 boots from its
own overlay of rfvmA's base, with MACs and host-side NIC names no other domain has."""

from __future__ import annotations

import subprocess

import pytest

from .conftest import (
    BASE_NAME,
    QEMU_URI,
    READY_MARKER,
    RFTEST2_NAMES,
    console_output_until,
    domain_state,
    run_cli,
    virsh,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_libvirt")]


def cli(workdir, *arguments):
    return run_cli("--workdir", str(workdir.root), "--connect", QEMU_URI, *arguments)


def domiflist(name: str) -> list[tuple[str, str]]:
    """(host-side interface, MAC) of each NIC, as virsh domiflist shows them."""
    rows = []
    for line in virsh(QEMU_URI, "domiflist", name).splitlines():
        cells = line.split()
        if len(cells) == 5:
            rows.append((cells[0], cells[4]))
    return rows


def test_clone_of_rfvmA_boots_as_rfvmE_with_unique_macs(overlay_workdir, open_fleet):
    assert cli(overlay_workdir, "up").returncode == 0
    cloned = cli(overlay_workdir, "clone", "rfvmA", "rfvmE")
    assert cloned.returncode == 0, cloned.stderr
    assert "rfvmE (id 5) cloned from rfvmA" in cloned.stdout
    overlay = overlay_workdir.image("h5.qcow2")
    assert f"overlay {overlay} of {BASE_NAME}.qcow2" in cloned.stdout

    fleet = open_fleet(overlay_workdir, QEMU_URI)
    fleet.up("rfvmE")
    console_output_until(QEMU_URI, "rfvmE", READY_MARKER)  # it really boots
    assert domain_state(QEMU_URI, "rfvmE") == "running"
    assert virsh(QEMU_URI, "domblklist", "rfvmE").split() == ["vda", str(overlay)]

    clone_nics = domiflist("rfvmE")
    assert clone_nics == [(f"rfvmE.{port}", ":".join(["02"] + [f"e{port}"] * 5)) for port in range(1, 5)]
    every_mac = [mac for name in (*RFTEST2_NAMES, "rfvmE") for _, mac in domiflist(name)]
    assert len(every_mac) == 14 + 4 and len(set(every_mac)) == len(every_mac)
    every_device = [device for name in (*RFTEST2_NAMES, "rfvmE") for device, _ in domiflist(name)]
    assert len(set(every_device)) == len(every_device)
    assert {f"rfvmE.{port}" for port in range(1, 5)} <= dp0_ports()  # plugged into dp0 like the others

    again = cli(overlay_workdir, "clone", "rfvmA", "rfvmE")
    assert again.returncode == 1 and "already a VM called rfvmE" in again.stderr


def dp0_ports() -> set[str]:
    result = subprocess.run(["ovs-vsctl", "--timeout=10", "list-ports", "dp0"], capture_output=True, text=True, check=True)
    return set(result.stdout.split())
