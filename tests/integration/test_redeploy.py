"""rftest2's redeploy of rfvmA–rfvmD at once on the real libvirtd: QEMU (TCG) guests from the
rftest2 presets, kernel boot, their data NICs plugged into the userspace Open vSwitch bridge dp0."""

from __future__ import annotations

import subprocess

import pytest

from rfconsole.model.rftest2 import RFTEST2_VMS
from rfconsole.store import Store

from .conftest import QEMU_URI, RFTEST2_NAMES, domain_state, virsh

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_libvirt")]


def _dp0_ports() -> set[str]:
    result = subprocess.run(["ovs-vsctl", "--timeout=10", "list-ports", "dp0"], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def _data_devices() -> set[str]:
    return {device for vm in RFTEST2_VMS.values() for device in vm.data_devices}


def test_redeploy_four_vms_at_once_with_their_nics_on_dp0(rftest2_workdir, open_fleet):
    fleet = open_fleet(rftest2_workdir, QEMU_URI)

    first = fleet.run_many("redeploy", RFTEST2_NAMES)
    assert [(result.name, result.ok) for result in first] == [(name, True) for name in RFTEST2_NAMES], [r.message for r in first]
    assert {name: domain_state(QEMU_URI, name) for name in RFTEST2_NAMES} == {name: "running" for name in RFTEST2_NAMES}
    assert _data_devices() <= _dp0_ports()  # rfvmA.1 … rfvmD.4: 14 ports on dp0
    ids_before = {name: virsh(QEMU_URI, "domid", name).strip() for name in RFTEST2_NAMES}

    # Again, over running guests: destroy, undefine, define, start each, still concurrently.
    second = fleet.run_many("redeploy", RFTEST2_NAMES)
    assert all(result.ok for result in second), [result.message for result in second]
    ids_after = {name: virsh(QEMU_URI, "domid", name).strip() for name in RFTEST2_NAMES}
    assert all(ids_after[name] != ids_before[name] for name in RFTEST2_NAMES)  # new QEMU processes
    assert {name: domain_state(QEMU_URI, name) for name in RFTEST2_NAMES} == {name: "running" for name in RFTEST2_NAMES}
    assert _data_devices() <= _dp0_ports()
    live = virsh(QEMU_URI, "dumpxml", "rfvmA")
    assert "02:a4:a4:a4:a4:a4" in live and "openvswitch" in live

    results = fleet.run_many("destroy", RFTEST2_NAMES)
    assert all(result.ok for result in results)
    assert not _data_devices() & _dp0_ports()  # libvirt unplugged them from dp0


def test_redeploy_leaves_a_vm_with_a_missing_kernel_untouched(rftest2_workdir, open_fleet):
    """A VM whose XML now names a missing kernel is refused before it is touched (its running
    guest stays as it was); the other three still redeploy."""
    fleet = open_fleet(rftest2_workdir, QEMU_URI)
    assert all(result.ok for result in fleet.run_many("redeploy", RFTEST2_NAMES))
    ids_before = {name: virsh(QEMU_URI, "domid", name).strip() for name in RFTEST2_NAMES}
    store = Store(rftest2_workdir)
    document = store.load("rfvmC")
    spec = document.spec()
    document.apply(spec.with_changes(kernel_boot=spec.kernel_boot.with_changes(kernel=rftest2_workdir.root / "gone-vmlinuz")))
    store.save(document, overwrite=True)

    results = {result.name: result for result in fleet.run_many("redeploy", RFTEST2_NAMES)}

    assert not results["rfvmC"].ok
    assert "kernel file does not exist" in results["rfvmC"].message and "rfvmC" in results["rfvmC"].message
    assert domain_state(QEMU_URI, "rfvmC") == "running"
    assert virsh(QEMU_URI, "domid", "rfvmC").strip() == ids_before["rfvmC"]
    assert str(rftest2_workdir.root / "gone-vmlinuz") not in virsh(QEMU_URI, "dumpxml", "--inactive", "rfvmC")
    for name in ("rfvmA", "rfvmB", "rfvmD"):
        assert results[name].ok, results[name].message
        assert domain_state(QEMU_URI, name) == "running"
        assert virsh(QEMU_URI, "domid", name).strip() != ids_before[name]
