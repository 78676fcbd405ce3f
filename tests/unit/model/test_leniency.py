"""Reading is lenient, writing is exact (issue 9): what libvirt accepts is read, shown and
edited; rfconsole's own rules are warnings there and errors only for what it creates. And the
checks, edits and id rule both faces share (model/checks.py)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from rfconsole.cli import main
from rfconsole.model import DomainSpec, Interface, InvalidSpec
from rfconsole.model.checks import (
    changed_spec,
    check_document,
    choose_id,
    parse_changes,
)
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.fields import CLEARABLE_KEYS, DOMAIN_FIELDS, SET_KEYS
from rfconsole.model.rftest2 import RouteflowMap, parse_routeflow_csv
from rfconsole.model.schema import schema_problems
from rfconsole.model.spec import Disk, Hypervisor
from rfconsole.store import Store, Workdir

FOREIGN = """<domain type='kvm'>
  <name>foo=1,bar=2</name>
  <cpu><numa><cell id='0' cpus='0' memory='262144' unit='KiB'/></numa></cpu>
  <vcpu>1</vcpu>
  <os><type arch='aarch64' machine='virt'>hvm</type></os>
  <devices>
    <disk type='block' device='disk'>
      <source dev='/dev/sdb'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='network' device='cdrom'>
      <source protocol='http' name='/images/boot.iso'><host name='example.org' port='80'/></source>
      <target dev='sda' bus='scsi'/>
      <readonly/>
    </disk>
    <interface type='user'>
      <mac address='02:a0:a0:a0:a0:a0'/>
      <model type='virtio'/>
    </interface>
    <interface type='network'>
      <mac address='02:a1:a1:a1:a1:a1'/>
      <source network='a-libvirt-network-longer-than-15'/>
      <virtualport type='802.1Qbh'><parameters profileid='finance'/></virtualport>
    </interface>
  </devices>
</domain>
"""


def run(workdir, *arguments):
    return main(["--workdir", str(workdir), "xml", *arguments])


def test_a_domain_libvirt_accepts_is_read_whatever_rfconsole_would_create():
    document = DomainDocument.parse(FOREIGN, "foreign.xml")
    assert schema_problems(document) == []
    spec = document.spec()
    assert (spec.name, spec.arch.value, spec.memory, spec.image) == ("foo=1,bar=2", "aarch64", None, None)
    assert spec.disks == (
        Disk(type="block", device="disk", source="/dev/sdb", target_dev="vda", bus="virtio"),
        Disk(type="network", device="cdrom", source="/images/boot.iso", protocol="http", target_dev="sda", bus="scsi"),
    )
    assert [(nic.type, nic.mac) for nic in spec.interfaces] == [("user", "02:a0:a0:a0:a0:a0"), ("network", "02:a1:a1:a1:a1:a1")]
    assert spec.interfaces[1].virtualport == "802.1Qbh"
    broken = {problem.field for problem in spec.house_rule_problems()}
    assert {"name", "memory", "interfaces.0"} <= broken  # rfconsole's own rules: warnings
    check = check_document(document)
    assert check.ok and any("rfconsole would not create this: name" in warning for warning in check.warnings)


def test_rfconsoles_rules_still_hold_for_what_it_creates():
    with pytest.raises(InvalidSpec) as caught:
        DomainSpec(hypervisor="xen", name="foo=1,bar=2", memory=None)
    assert {problem.field for problem in caught.value.problems} == {"hypervisor", "name", "memory"}
    with pytest.raises(InvalidSpec, match="15 characters"):
        Interface(bridge="a-bridge-name-too-long")
    assert Interface(network="a-libvirt-network-longer-than-15").network  # a network is no host device
    assert Interface(network="default", virtualport="openvswitch").virtualport == "openvswitch"


def test_libvirts_own_rules_refuse_even_when_reading():
    for text, field in [
        ("<domain type='kvmx'><name>a</name></domain>", "hypervisor"),
        ("<domain type='kvm'><name>a</name><os><type arch='arm64'>hvm</type></os></domain>", "arch"),
        ("<domain type='kvm'><name>a</name><devices><interface type='user'><mac address='01:00:5e:00:00:01'/></interface></devices></domain>", "interfaces.0.mac"),
        ("<domain type='lxc'><name>a</name><os><type>exe</type><kernel>/k</kernel></os></domain>", "kernel_boot"),
        ("<domain type='kvm'><name>../../etc/x</name><os><type>hvm</type></os></domain>", "name"),
    ]:
        with pytest.raises(InvalidSpec) as caught:
            DomainDocument.parse(text).spec()
        assert field in {problem.field for problem in caught.value.problems}, text


def test_xml_show_and_set_on_a_foreign_domain(tmp_path, capsys):
    path = tmp_path / "foreign.xml"
    path.write_text(FOREIGN)
    assert run(tmp_path, "show", "--json", str(path)) == 0
    captured = capsys.readouterr()
    shown = json.loads(captured.out)
    assert shown["memory"] is None and shown["interfaces"][0]["type"] == "user" and len(shown["disks"]) == 2
    assert "rfconsole would not create this" in captured.err
    before = DomainDocument.read(path)
    assert run(tmp_path, "set", str(path), "memory=512", "vcpu=2") == 0
    after = DomainDocument.read(path)
    assert (after.spec().memory, after.spec().vcpu) == (512, 2)
    assert after.spec().with_changes(lenient=True, memory=None, vcpu=1) == before.spec()
    assert schema_problems(after) == []


def test_xml_set_warns_about_its_own_rules_and_writes(tmp_path, capsys):
    assert run(tmp_path, "new", "--hypervisor", "test", "--name", "plain") == 0
    capsys.readouterr()
    assert run(tmp_path, "set", "plain", "name=__x") == 0
    assert "rfconsole would not create this: name" in capsys.readouterr().err
    assert Store(Workdir(tmp_path)).load("__x").spec().name == "__x"


def test_eth0_of_type_user_or_network_is_matched_by_its_mac():
    routeflow = parse_routeflow_csv("vm_id,vm_port,ct_id,dp_id,dp_port\n2A0A0A0A0A0,1,0,5,1\n2B0B0B0B0B0,1,0,6,1\n")
    user = DomainDocument.parse(FOREIGN).spec()
    network = DomainDocument.parse(FOREIGN.replace("foo=1,bar=2", "vmB").replace("02:a0:a0", "02:b0:b0").replace("a0:a0:a0'", "b0:b0:b0'")).spec()
    assert network.interfaces[0].mac == "02:b0:b0:b0:b0:b0"
    assert isinstance(routeflow, RouteflowMap)
    assert routeflow.vm_names([user, network]) == {5: ("foo=1,bar=2",), 6: ("vmB",)}


def test_disks_are_written_and_matched_by_target(tmp_path):
    spec = DomainSpec(
        hypervisor="qemu",
        name="d",
        image="/srv/root.img",
        disks=[Disk(device="cdrom", source="/srv/tools.iso", target_dev="hdc", bus="ide"), Disk(type="block", source="/dev/sdb", target_dev="vdb", bus="virtio")],
    )
    document = DomainDocument.from_spec(spec)
    assert schema_problems(document) == [] and document.spec() == spec
    document.root.xpath("devices/disk[target/@dev='vdb']")[0].append(DomainDocument.parse("<domain><serial>keep</serial></domain>").root[0])
    cdrom, block = spec.disks
    document.apply(spec.with_changes(disks=(block.with_changes(source="/dev/sdc"),)))
    assert document.spec().disks == (block.with_changes(source="/dev/sdc"),)
    assert document.root.xpath("string(devices/disk[target/@dev='vdb']/serial)") == "keep"  # unmodelled, kept on its disk


def test_the_binding_table_gives_the_set_keys():
    assert SET_KEYS == tuple(binding.key.rsplit(".", 1)[-1] for binding in DOMAIN_FIELDS)
    assert {"name", "vcpu", "memory", "image", "kernel", "cmdline"} <= set(SET_KEYS)
    assert set(CLEARABLE_KEYS) <= set(SET_KEYS) and "name" not in CLEARABLE_KEYS
    assert parse_changes(["os-type=hvm", "vcpu=2"]) == {"os_type": "hvm", "vcpu": "2"}


def test_changed_spec_refuses_only_what_libvirt_refuses():
    document = DomainDocument.parse(FOREIGN)
    assert changed_spec(document, {"vcpu": "3"}).spec.vcpu == 3
    with pytest.raises(InvalidSpec, match="vCPUs"):
        changed_spec(document, {"vcpu": "none"})
    with pytest.raises(InvalidSpec, match="name"):
        changed_spec(document, {"name": ""})


def test_one_check_for_both_faces_schema_first():
    from rfconsole.tui.xmlsupport import problems_in

    text = "<domain type='kvm'><name>a</name><vcpu>many</vcpu><os><type>hvm</type></os></domain>"
    check = check_document(DomainDocument.parse(text))
    assert not check.ok and "line" in check.errors[0] and "vCPUs" in check.errors[-1]
    assert problems_in(text) == check.errors


def test_one_id_rule_for_the_cli_and_the_wizard(tmp_path):
    from rfconsole.tui.wizardsupport import suggest_id

    assert choose_id(2, [1, 5]) == 2 and choose_id(5, [1, 5]) == 6 and choose_id(None, []) == 1
    assert run(tmp_path, "new", "--hypervisor", "test", "--name", "other", "--id", "7") == 0
    store = Store(Workdir(tmp_path))
    context = SimpleNamespace(store=store, workdir=store.workdir)
    assert suggest_id(context, "rfvmB") == 2  # the preset's own id while it is free, as `xml new --preset rfvmB`
    assert suggest_id(context, "a new VM") == 8
    assert run(tmp_path, "new", "--hypervisor", "test", "--preset", "rfvmB") == 0
    assert store.load("rfvmB").spec().id == 2
    assert suggest_id(context, "rfvmB") == 8  # taken now: the next free one, on both faces
    assert Hypervisor.XEN.managed is False and Hypervisor.QEMU.managed


def test_on_demand_maps_a_switch_to_a_vm_whose_eth0_is_type_user(tmp_path):
    """The on-demand map (RouteFlow's CSV vm_id = eth0's MAC) finds a VM in XML/ whose eth0 is
    <interface type='user'>, and one whose eth0 is on a libvirt network."""
    from rfconsole.ondemand.mapping import build_datapath_map

    store = Store(Workdir(tmp_path))
    store.xml_dir.mkdir(parents=True, exist_ok=True)
    (store.xml_dir / "user.xml").write_text(FOREIGN.replace("foo=1,bar=2", "uservm"))
    network = FOREIGN.replace("foo=1,bar=2", "netvm").replace("<interface type='user'>\n      <mac address='02:a0:a0:a0:a0:a0'/>", "<interface type='network'>\n      <mac address='02:b0:b0:b0:b0:b0'/>\n      <source network='default'/>")
    (store.xml_dir / "net.xml").write_text(network.replace("02:a1:a1:a1:a1:a1", "02:b1:b1:b1:b1:b1"))
    csv = tmp_path / "rftest2.csv"
    csv.write_text("vm_id,vm_port,ct_id,dp_id,dp_port\n2A0A0A0A0A0,1,0,5,1\n2B0B0B0B0B0,1,0,6,1\n")
    mapping = build_datapath_map(store, csv)
    assert mapping.for_datapath(5) == ("uservm",) and mapping.for_datapath(6) == ("netvm",)
    assert not mapping.notes
