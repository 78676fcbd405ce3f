"""The details of a real QEMU guest (rftest2's rfvmA as a tiny guest, its data NICs on the
userspace Open vSwitch bridge dp0): state and reason, resources, each NIC's host device and OVS
port (checked with ovs-vsctl), the switch ports from a RouteFlow CSV, the XML/ file against
libvirt's definition, and the lifecycle events seen."""

from __future__ import annotations

import json
import subprocess

import pytest

from rfconsole.config import Config
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.spec import Interface
from rfconsole.store import Store
from rfconsole.virt.events import DomainState, EventKind
from rfconsole.virt.fleet import Fleet

from .conftest import QEMU_URI, rftest2_spec, run_cli, save_spec

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_libvirt")]


def test_details_of_a_running_rftest2_vm(workdir, guest, dp0_bridge):
    spec = rftest2_spec("rfvmA", guest, workdir)
    # eth0 with rftest2's management MAC (RouteFlow finds the VM by it), on dp0: there is no lxcbr0 here
    eth0 = Interface(mac="02:a0:a0:a0:a0:a0", bridge="dp0", virtualport="openvswitch", target_dev="rfvmA.0")
    save_spec(workdir, spec.with_changes(interfaces=(eth0, *spec.interfaces)))
    (workdir.root / "rftest2config.csv").write_text("vm_id,vm_port,ct_id,dp_id,dp_port\n2A0A0A0A0A0,1,0,5,1\n2A0A0A0A0A0,3,0,5,7\n")
    (workdir.root / "rfconsole.toml").write_text('[ondemand]\nrouteflow_config = "rftest2config.csv"\n')
    fleet = Fleet(Config.load(workdir), Store(workdir), connect=QEMU_URI)
    try:
        fleet.host().connect()  # events are recorded from the first connection on
        fleet.up("rfvmA")
        details = fleet.details("rfvmA")
        assert details.state is DomainState.RUNNING and details.reason == "booted"
        assert details.host == fleet.host().name and details.uri == QEMU_URI and details.hypervisor == "qemu"
        assert details.vcpus_defined == details.vcpus_live == 1
        assert details.memory_defined_mib == 128 and details.memory_live_mib == 128
        assert details.xml_file == workdir.xml_dir / "rfvmA.xml" and details.xml_agrees is True

        ports = set(subprocess.run(["ovs-vsctl", "list-ports", "dp0"], capture_output=True, text=True, check=True).stdout.split())
        eth = {nic.index: nic for nic in details.nics}
        assert eth[0].mac == "02:a0:a0:a0:a0:a0" and eth[0].switch is None  # the CSV has no vm_port 0
        assert {nic.target_dev for nic in details.nics} == {"rfvmA.0", "rfvmA.1", "rfvmA.2", "rfvmA.3", "rfvmA.4"} <= ports
        assert eth[1].ovs_port == "rfvmA.1 on dp0" and eth[1].mac == "02:a1:a1:a1:a1:a1"
        # RouteFlow's CSV: vm_port N is ethN of the VM whose eth0 MAC is vm_id
        assert (eth[1].switch, eth[1].switch_port) == (5, 1) and (eth[3].switch, eth[3].switch_port) == (5, 7)
        assert eth[2].switch is None and "rftest2config.csv" in details.switch_note
        assert "asked libvirt's" in details.addresses_note

        # `rfconsole details --json`, another process on the same host, says the same.
        shown = run_cli("--workdir", str(workdir.root), "--connect", QEMU_URI, "details", "rfvmA", "--json")
        assert shown.returncode == 0, shown.stderr
        said = json.loads(shown.stdout)
        assert said == {**details.to_json(), "events": said["events"], "counters": said["counters"]}  # both go on moving
        # its disk and NIC byte counters (the details screen's rates), each NIC by its host device
        assert details.counters is not None and {nic.device for nic in details.counters.nics} == {nic.target_dev for nic in details.nics}
        later = {nic["device"]: nic for nic in said["counters"]["nics"]}
        assert all(later[nic.device]["rx_bytes"] >= nic.rx_bytes for nic in details.counters.nics)
        text = run_cli("--workdir", str(workdir.root), "--connect", QEMU_URI, "details", "rfvmA").stdout
        assert "State       running (booted)" in text and "rfvmA.3 on dp0" in text and "0000000000000005:7" in text

        # The file changed since the define: the details name what differs from libvirt's definition.
        Store(workdir).save(DomainDocument.from_spec(Store(workdir).load("rfvmA").spec().with_changes(memory=256)), overwrite=True)
        changed = fleet.details("rfvmA")
        assert changed.xml_agrees is False and "differs in: memory" in changed.xml_note

        kinds = [event.kind for event in details.events]
        assert EventKind.STARTED in kinds

        fleet.destroy("rfvmA", force=True)
        stopped = fleet.details("rfvmA")
        assert stopped.state is DomainState.SHUTOFF and stopped.reason == "destroyed"
        assert stopped.vcpus_live is None and stopped.addresses_note == "the VM is not running"
        assert EventKind.STOPPED in [event.kind for event in stopped.events]
    finally:
        fleet.close()


def test_a_file_against_real_libvirts_definition_shows_only_real_differences(workdir, guest, dp0_bridge):
    """QEMU's driver fills in a machine type, controllers, a balloon, PCI addresses, KiB …: none of it is a
    difference (issue 17 item 9: ctrl+d was flooded); a changed vCPU count and memory are."""
    import difflib

    from rfconsole.model.xmldiff import comparable

    path = save_spec(workdir, rftest2_spec("rfvmA", guest, workdir))
    fleet = Fleet(Config.load(workdir), Store(workdir), connect=QEMU_URI)
    try:
        fleet.define("rfvmA")
    finally:
        fleet.close()
    live = subprocess.run(["virsh", "-c", QEMU_URI, "dumpxml", "--inactive", "rfvmA"], check=True, capture_output=True, text=True).stdout
    text = path.read_text()
    assert len(list(difflib.unified_diff(live.splitlines(), text.splitlines(), lineterm=""))) > 50  # the flood, unfiltered

    same = comparable(live, text)
    assert same.live == same.file and same.left_out > 10, (same.live, same.file)

    edited = comparable(live, text.replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>"))
    changed = [line for line in difflib.unified_diff(edited.live.splitlines(), edited.file.splitlines(), lineterm="", n=0)
               if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["-  <vcpu>1</vcpu>", "+  <vcpu>2</vcpu>"]
