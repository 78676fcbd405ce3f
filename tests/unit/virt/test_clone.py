"""Clone: rftest2's naming extended (rfvmE), MACs unique across XML/ and the hosts, the source's
XML kept, its own overlay (real qemu-img), and every refusal before anything is written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from rfconsole.errors import RfconsoleError
from rfconsole.images import Images, image_info
from rfconsole.model.clone import (
    CloneError,
    clone_document,
    clone_image_name,
    clone_interfaces,
    random_mac,
    suggest_clone_name,
)
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.errors import InvalidSpec
from rfconsole.model.rftest2 import RFTEST2_VMS, preset_spec, rftest2_naming
from rfconsole.model.spec import Hypervisor

from .conftest import save_preset


def test_rftest2_naming_goes_on_to_rfvmE_and_rfvmF():
    fifth = rftest2_naming("rfvmE")
    assert (fifth.default_id, fifth.image_name, fifth.eth0_mac, fifth.data_mac(3), fifth.datapath_id) == (5, "h5.img", "02:e0:e0:e0:e0:e0", "02:e3:e3:e3:e3:e3", 9)
    assert rftest2_naming("rfvmF").default_id == 6 and rftest2_naming("rfvme") is fifth
    assert rftest2_naming("rfvmG") is None and rftest2_naming("router7") is None and rftest2_naming("rfvm") is None
    assert clone_image_name("rfvmE") == "h5.qcow2" and clone_image_name("lab7") == "lab7.qcow2"
    assert suggest_clone_name("rfvmA", {"rfvmA", "rfvmE"}) == "rfvmF" and suggest_clone_name("lab7", {"lab7"}) == "lab7-2"


def test_clone_of_rfvmA_as_rfvmE_is_the_rfvmE_preset(tmp_path):
    """One rule: `clone rfvmA rfvmE` and `xml new --preset rfvmE` give the same NICs."""
    source = preset_spec("rfvmA", Hypervisor.QEMU, tmp_path)
    assert clone_interfaces(source, "rfvmE", taken_macs=[]) == preset_spec("rfvmE", Hypervisor.QEMU, tmp_path).interfaces
    assert preset_spec("rfvmF", Hypervisor.QEMU, tmp_path).interfaces[1].target_dev == "rfvmF.1"


def test_clone_interfaces_rfvmE_from_rfvmA(tmp_path):
    source = preset_spec("rfvmA", Hypervisor.QEMU, tmp_path)
    nics = clone_interfaces(source, "rfvmE", taken_macs=[])
    assert [(nic.mac, nic.bridge, nic.target_dev) for nic in nics] == [("02:e0:e0:e0:e0:e0", "lxcbr0", None)] + [
        (f"02:e{port}:e{port}:e{port}:e{port}:e{port}", "dp0", f"rfvmE.{port}") for port in range(1, 5)
    ]
    with pytest.raises(CloneError, match="rfvmE's MAC 02:e2:e2:e2:e2:e2 .* is already used"):
        clone_interfaces(source, "rfvmE", taken_macs=["02:E2:E2:E2:E2:E2"])


def test_other_names_get_free_locally_administered_unicast_macs(tmp_path):
    source = preset_spec("rfvmB", Hypervisor.QEMU, tmp_path)
    taken = {nic.mac for vm in RFTEST2_VMS.values() for nic in vm.interfaces()}
    nics = clone_interfaces(source, "lab7", taken)
    macs = [nic.mac for nic in nics]
    assert len(set(macs)) == len(macs) and not set(macs) & taken
    assert all(int(mac[:2], 16) & 0b11 == 0b10 for mac in macs)  # locally administered, unicast
    assert [nic.target_dev for nic in nics] == [None, "lab7.1", "lab7.2", "lab7.3"]
    draws = iter([b"\xa0" * 5, b"\xa0" * 5, b"\x01\x02\x03\x04\x05"])
    assert random_mac({"02:a0:a0:a0:a0:a0"}, lambda _n: next(draws)) == "02:01:02:03:04:05"
    with pytest.raises(CloneError, match="longer than 15 characters"):
        clone_interfaces(source, "a-fourteen-chr", [])


def test_clone_document_keeps_the_rest_and_drops_the_uuid(tmp_path):
    spec = preset_spec("rfvmA", Hypervisor.QEMU, tmp_path)
    source = DomainDocument.parse(
        DomainDocument.from_spec(spec).to_xml().replace("<name>rfvmA</name>", "<name>rfvmA</name>\n  <uuid>8f0b3c4e-3a55-4b68-9d2a-3d1f1d2b6c11</uuid>")
        .replace("<devices>", "<devices>\n    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>")
    )
    clone = clone_document(source, spec.with_changes(name="rfvmE", id=5, interfaces=clone_interfaces(spec, "rfvmE", [])))
    text = clone.to_xml()
    assert "<uuid>" not in text and "<name>rfvmE</name>" in text and "/dev/urandom" in text
    assert clone.owned and clone.rfconsole_id == 5 and "<uuid>" in source.to_xml()


@pytest.fixture
def base_and_overlay(workdir):
    source = workdir.root / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(source), "16M"], check=True)
    images = Images(workdir)
    base, _ = images.register_base(source)
    overlay, _ = images.create_overlay(base, workdir.image("h1.qcow2"))
    return base, overlay


def test_fleet_clone_writes_the_xml_and_its_own_overlay(demo, store, workdir, base_and_overlay):
    base, overlay = base_and_overlay
    save_preset(store, "rfvmA", Hypervisor.QEMU, image=overlay)
    outcome = demo.clone("rfvmA", "rfvmE")
    assert (outcome.domain, outcome.action, outcome.host) == ("rfvmE", "clone", "demo")  # a typed outcome, as up/down give
    assert outcome.words.startswith(f"rfvmE (id 5) cloned from rfvmA: {workdir.xml_dir / 'rfvmE.xml'}, overlay {workdir.image('h5.qcow2')} of tiny.qcow2")
    clone = store.load("rfvmE").spec()
    assert clone.image == workdir.image("h5.qcow2") and image_info(clone.image).backing == base
    assert clone.id == 5 and [nic.target_dev for nic in clone.interfaces][1:] == ["rfvmE.1", "rfvmE.2", "rfvmE.3", "rfvmE.4"]
    assert store.load("rfvmA").spec().image == overlay  # the source untouched


def test_clone_macs_avoid_those_of_the_hosts(demo, store, workdir, base_and_overlay):
    _, overlay = base_and_overlay
    save_preset(store, "rfvmB", Hypervisor.QEMU, image=overlay, interfaces=())
    document = store.load("rfvmB")
    document.apply(document.spec().with_changes(interfaces=RFTEST2_VMS["rfvmB"].interfaces()))
    store.save(document, path=store.find("rfvmB"), overwrite=True)
    host_macs = set()
    for status in demo.statuses():  # the demo host's rfvmA–rfvmD carry rftest2's MACs
        host_macs |= {mac.lower() for mac in _macs(demo.live_xml(status.name))}
    assert host_macs
    demo.clone("rfvmB", "lab7")
    clone_macs = {nic.mac for nic in store.load("lab7").spec().interfaces}
    assert not clone_macs & host_macs


def _macs(xml: str) -> set[str]:
    import re

    return set(re.findall(r"mac address=['\"]([0-9a-fA-F:]{17})", xml))


def test_refusals_write_nothing(demo, store, workdir, base_and_overlay, tmp_path):
    base, overlay = base_and_overlay
    save_preset(store, "rfvmA", Hypervisor.QEMU, image=base)  # a base itself: never shared
    save_preset(store, "rfvmC", Hypervisor.LXC, image=tmp_path)
    save_preset(store, "rfvmD", Hypervisor.QEMU, image=overlay)
    before = sorted(path.name for path in workdir.xml_dir.iterdir()), sorted(path.name for path in workdir.images_dir.iterdir())
    with pytest.raises(CloneError, match="is not an overlay of a base, and rfconsole never shares one VM's disk"):
        demo.clone("rfvmA", "rfvmE")
    with pytest.raises(CloneError, match="it is an LXC container"):
        demo.clone("rfvmC", "rfvmE")
    with pytest.raises(CloneError, match="already a VM called rfvmA"):
        demo.clone("rfvmD", "rfvmA")
    with pytest.raises(CloneError, match="host demo already has a domain called rfvmB"):
        demo.clone("rfvmD", "rfvmB")
    with pytest.raises(InvalidSpec, match="this name is not allowed"):
        demo.clone("rfvmD", "../evil")
    Path(workdir.image("h5.qcow2")).write_bytes(b"someone's disk")
    with pytest.raises(Exception, match="already exists; not creating an overlay over it"):
        demo.clone("rfvmD", "rfvmE")
    assert Path(workdir.image("h5.qcow2")).read_bytes() == b"someone's disk"
    assert (sorted(path.name for path in workdir.xml_dir.iterdir()), sorted(path.name for path in workdir.images_dir.iterdir() if path.name != "h5.qcow2")) == before


def test_clone_adds_its_rows_to_routeflows_csv_after_checking_them_first(demo, store, workdir, base_and_overlay):
    _, overlay = base_and_overlay
    save_preset(store, "rfvmA", Hypervisor.QEMU, image=overlay)
    csv_file = workdir.root / "rftest2.csv"
    csv_file.write_text("vm_id,vm_port,ct_id,dp_id,dp_port\n2A0A0A0A0A0,1,0,5,1\n2D0D0D0D0D0,1,0,9,1\n")
    with pytest.raises(RfconsoleError, match="line 3 already maps VM 2D0D0D0D0D0 .* to switch 9 port 1"):
        demo.clone("rfvmA", "rfvmE", routeflow_config=csv_file)
    assert store.find("rfvmE") is None and not workdir.image("h5.qcow2").exists()  # refused before anything was written
    message = demo.clone("rfvmA", "rfvmE", routeflow_config=csv_file, datapath_id=0x11).words
    assert message.endswith(f"; added 4 rows to {csv_file}: rfvmE serves switch 0000000000000011 (rfconsole watch boots it when that switch connects)")
    assert csv_file.read_text().splitlines()[3:] == [f"2E0E0E0E0E0,{port},0,11,{port}" for port in range(1, 5)]


def test_clone_command_prints_rfvmEs_rows_when_no_csv_is_given(store, workdir, base_and_overlay, capsys):
    from rfconsole.cli import main

    _, overlay = base_and_overlay
    save_preset(store, "rfvmA", Hypervisor.QEMU, image=overlay)
    assert main(["--workdir", str(workdir.root), "--demo", "clone", "rfvmA", "rfvmE"]) == 0
    out = capsys.readouterr().out
    assert "RouteFlow's CSV rows for rfvmE" in out and "  2E0E0E0E0E0,1,0,9,1" in out
    assert main(["--workdir", str(workdir.root), "--demo", "clone", "rfvmA", "lab7"]) == 0
    assert "RouteFlow" not in capsys.readouterr().out  # nothing says which switch lab7 serves


def test_a_nic_name_libvirt_made_up_is_left_to_libvirt_and_names_never_clash(tmp_path):
    source = preset_spec("rfvmB", Hypervisor.QEMU, tmp_path)
    named_by_libvirt = source.with_changes(interfaces=(source.interfaces[0].with_changes(target_dev="testnet0"), *source.interfaces[1:]))
    nics = clone_interfaces(named_by_libvirt, "rfvmE", [])
    assert [nic.target_dev for nic in nics] == [None, "rfvmE.1", "rfvmE.2", "rfvmE.3"]  # not rfvmE.1 twice
    named_by_user = source.with_changes(interfaces=(source.interfaces[0].with_changes(target_dev="mgmt-b"), *source.interfaces[1:]))
    assert [nic.target_dev for nic in clone_interfaces(named_by_user, "rfvmE", [])] == ["rfvmE-1", "rfvmE.1", "rfvmE.2", "rfvmE.3"]
    doubled = source.with_changes(interfaces=(*source.interfaces, source.interfaces[1].with_changes(mac="02:00:00:00:00:07")))
    with pytest.raises(CloneError, match="two of lab7's NICs would have the host-side name lab7.1: rfvmB has two data NICs numbered 1"):
        clone_interfaces(doubled, "lab7", [])


def test_the_demo_hosts_rfvmB_clones_as_rfvmE_with_distinct_nic_names(demo, store):
    demo.clone("rfvmB", "rfvmE")  # from the host's definition, where libvirt named eth0 testnet0
    assert [nic.target_dev for nic in store.load("rfvmE").spec().interfaces] == [None, "rfvmE.1", "rfvmE.2", "rfvmE.3"]


def test_clone_id_is_chosen_with_id_and_a_taken_one_is_refused(store, workdir, base_and_overlay, capsys):
    from rfconsole.cli import main

    _, overlay = base_and_overlay
    save_preset(store, "rfvmA", Hypervisor.QEMU, image=overlay)
    assert main(["--workdir", str(workdir.root), "--demo", "clone", "rfvmA", "lab7", "--id", "42"]) == 0
    assert store.load("lab7").rfconsole_id == 42
    assert main(["--workdir", str(workdir.root), "--demo", "clone", "rfvmA", "lab8", "--id", "42"]) == 1
    assert "lab7.xml (lab7) already has id 42" in capsys.readouterr().err
    assert store.find("lab8") is None and not workdir.image("lab8.qcow2").exists()  # nothing written
