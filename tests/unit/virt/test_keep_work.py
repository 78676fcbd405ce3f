"""Nothing is lost and nothing misreported, for the console and the CLI alike: undefine keeps the
definition in XML/, VMs only in XML/ are listed, missing images are refused at start, and the
rftest2 bring-up deploys each slot only from that slot's own VM."""

from __future__ import annotations

from pathlib import Path

import pytest

from rfconsole.errors import RfconsoleError
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.spec import DomainSpec, Hypervisor
from rfconsole.virt.errors import MissingFiles
from rfconsole.virt.events import DomainState
from tests.unit.virt.conftest import save_preset


def test_undefine_without_a_file_saves_libvirts_definition_to_xml_first(demo, store):
    assert store.find("rfvmA") is None
    said = demo.undefine("rfvmA").words
    saved = store.find("rfvmA")
    assert saved is not None and saved.parent == store.workdir.xml_dir
    assert str(saved) in said
    assert demo.status("rfvmA") is None
    # undoable: defined again from what was saved, the same VM
    demo.define("rfvmA")
    status = demo.status("rfvmA")
    assert status is not None and status.state is DomainState.SHUTOFF and status.vcpus >= 1
    assert DomainDocument.read(saved).name == "rfvmA"


def test_undefine_with_a_file_leaves_the_file_as_it_was(demo, store):
    save_preset(store, "rfvmB", id=2)
    path = store.find("rfvmB")
    before = path.read_bytes()
    said = demo.undefine("rfvmB").words
    assert "saved" not in said
    assert path.read_bytes() == before
    assert sorted(p.name for p in store.workdir.xml_dir.glob("*.xml")) == ["rfvmB.xml"]


def test_a_vm_only_in_xml_is_listed_undefined_on_its_host(demo, store):
    store.save(DomainDocument.from_spec(DomainSpec(hypervisor=Hypervisor.TEST, name="lab1", id=9)))
    save_preset(store, "rfvmA", id=1)  # defined on the demo host too: not listed twice
    listed = demo.stored_only(demo.statuses())
    assert [(s.name, s.host, s.state) for s in listed] == [("lab1", "demo", DomainState.UNDEFINED)]
    assert not listed[0].state.is_active
    demo.up("lab1")
    assert demo.stored_only(demo.statuses()) == []
    assert demo.is_running("lab1")


def test_starting_a_test_vm_whose_image_is_missing_is_refused(demo, store, workdir):
    document = save_preset(store, "rfvmA", id=1, with_image=False)  # Images/h1.img does not exist
    demo.undefine("rfvmA")
    demo.define(document)  # defining is allowed: images often come later
    with pytest.raises(MissingFiles, match="h1.img"):
        demo.start("rfvmA")
    assert demo.status("rfvmA").state is DomainState.SHUTOFF
    with pytest.raises(MissingFiles):
        demo.up("rfvmA")
    Path(workdir.images_dir / "h1.img").write_bytes(b"")
    demo.start("rfvmA")
    assert demo.is_running("rfvmA")


def test_bring_up_refuses_a_file_whose_vm_is_not_the_slots(demo, store, workdir):
    for slot in ("rfvmA", "rfvmC", "rfvmD"):
        save_preset(store, slot, id="ABCD".index(slot[-1]) + 1)
    store.save(DomainDocument.from_spec(DomainSpec(hypervisor=Hypervisor.TEST, name="lab-vm1", id=9)))
    chosen = {slot: store.find(slot) for slot in ("rfvmA", "rfvmC", "rfvmD")} | {"rfvmB": store.find("lab-vm1")}
    results = demo.bring_up_rftest2(chosen)
    refused = results["rfvmB"]
    assert isinstance(refused, RfconsoleError)
    assert "lab-vm1.xml" in refused.message and "not rfvmB" in refused.message
    assert not demo.has_domain("lab-vm1")  # nothing touched
    assert demo.status("rfvmB").state is DomainState.SHUTOFF
    assert all(demo.is_running(slot) for slot in ("rfvmA", "rfvmC", "rfvmD"))


def test_autostart_toggles_on_and_off(demo):
    host = demo.host("demo")
    assert not host.autostart("rfvmC")
    assert demo.toggle_autostart("rfvmC").words == "autostart on on host demo"
    assert host.autostart("rfvmC")
    assert demo.toggle_autostart("rfvmC").words == "autostart off on host demo"
    assert not host.autostart("rfvmC")
