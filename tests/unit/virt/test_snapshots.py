"""Snapshots on libvirt's test driver (real libvirt snapshot API, in process), and the storage
rules that decide, before libvirt is asked, whether a domain can have one."""

from __future__ import annotations

import re

import pytest

from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.errors import InvalidSpec
from rfconsole.model.snapshot import parse_snapshot, snapshot_refusal, snapshot_xml
from rfconsole.model.spec import DomainSpec, Hypervisor, KernelBoot
from rfconsole.virt.errors import NotOwned
from rfconsole.virt.snapshots import SnapshotNotFound


def test_create_list_revert_delete_on_the_demo(demo):
    demo.start("rfvmA")
    assert "taken (disks and memory, while running)" in demo.snapshot_create("rfvmA", "clean", description="fresh lab").words
    demo.destroy("rfvmA")
    assert "while shut off" in demo.snapshot_create("rfvmA", "off").words
    listed = demo.snapshot_list("rfvmA")
    assert [(info.name, info.state, info.current) for info in listed] == [("clean", "running", False), ("off", "shutoff", True)]
    assert listed[0].description == "fresh lab" and listed[0].to_json()["domain"] == "rfvmA"

    assert demo.snapshot_revert("rfvmA", "clean").words == "reverted to snapshot clean, running on host demo"
    assert demo.is_running("rfvmA")
    assert [info.name for info in demo.snapshot_list("rfvmA") if info.current] == ["clean"]
    demo.snapshot_revert("rfvmA", "off")
    assert not demo.is_running("rfvmA")
    demo.snapshot_revert("rfvmA", "off", running=True, timeout=5)
    assert demo.is_running("rfvmA")

    assert "deleted" in demo.snapshot_delete("rfvmA", "off").words
    assert [info.name for info in demo.snapshot_list("rfvmA")] == ["clean"]


def test_refusals_name_what_is_wrong(demo):
    demo.snapshot_create("rfvmB", "s1")
    with pytest.raises(Exception, match="already has a snapshot called 's1'"):
        demo.snapshot_create("rfvmB", "s1")
    with pytest.raises(SnapshotNotFound, match=r"rfvmB on host demo has no snapshot called 'nope' \(it has: s1\)"):
        demo.snapshot_revert("rfvmB", "nope")
    with pytest.raises(SnapshotNotFound, match="rfvmC on host demo has no snapshot to revert to"):
        demo.snapshot_revert("rfvmC")
    with pytest.raises(InvalidSpec, match="a snapshot name has letters"):
        demo.snapshot_create("rfvmB", "two words")
    assert [info.name for info in demo.snapshot_list("rfvmB")] == ["s1"]


def test_a_foreign_domain_needs_force(foreign):
    with pytest.raises(NotOwned, match="refusing to snapshot test on host"):
        foreign.snapshot_create("test", "s1")
    assert foreign.snapshot_list("test") == []
    foreign.snapshot_create("test", "s1", force=True)
    with pytest.raises(NotOwned, match="refusing to revert test"):
        foreign.snapshot_revert("test", "s1")
    with pytest.raises(NotOwned, match="refusing to delete a snapshot of test"):
        foreign.snapshot_delete("test", "s1")
    assert [info.name for info in foreign.snapshot_list("test")] == ["s1"]


def _document(**settings) -> DomainDocument:
    return DomainDocument.from_spec(DomainSpec(name="vm1", **settings))


KERNEL = KernelBoot(kernel="/boot/vmlinuz")


@pytest.mark.parametrize(
    ("settings", "running", "words"),
    [
        ({"hypervisor": Hypervisor.LXC, "image": "/srv/rootfs"}, False, "LXC driver has no snapshots"),
        ({"hypervisor": Hypervisor.QEMU, "kernel_boot": KERNEL}, True, "it has no disk: a running VM's snapshot keeps its memory"),
        ({"hypervisor": Hypervisor.QEMU, "kernel_boot": KERNEL}, False, "it has no disk: there is nothing to snapshot"),
        ({"hypervisor": Hypervisor.KVM, "image": "/srv/h1.img"}, False, "disk vda (/srv/h1.img) is raw: internal snapshots need qcow2"),
        ({"hypervisor": Hypervisor.QEMU, "image": "/srv/h1.qcow2"}, True, None),
        ({"hypervisor": Hypervisor.TEST}, True, None),
    ],
)
def test_storage_rules(settings, running, words):
    reason = snapshot_refusal(_document(**settings), running)
    if words is None:
        assert reason is None
    else:
        assert words in reason


def test_snapshot_xml_round_trip():
    text = snapshot_xml("clean", "the lab <fresh>")
    assert "&lt;fresh&gt;" in text
    facts = parse_snapshot("<domainsnapshot><name>clean</name><state>running</state><creationTime>1700000000</creationTime>"
                           "<memory snapshot='internal'/><parent><name>older</name></parent></domainsnapshot>")
    assert (facts.name, facts.state, facts.memory, facts.parent, facts.created.year) == ("clean", "running", True, "older", 2023)


# ---------------------------------------------------------------------------- reset (the snapshot way)
@pytest.mark.parametrize("description, words", [
    ("a\x01b", r"must not contain control characters (found '\x01' at character 2)"),
    ("a\udcffb", "is not valid UTF-8 text (byte 0xff at character 2)"),  # invalid UTF-8 on the command line
])
def test_a_description_xml_cannot_hold_is_refused_in_words(demo, description, words):
    """issue 16 item 7: `snapshot create --description` with these gave lxml's traceback."""
    with pytest.raises(InvalidSpec, match=re.escape(words)):
        snapshot_xml("s1", description)
    with pytest.raises(InvalidSpec):
        demo.snapshot_create("rfvmA", "s1", description=description)
    assert [info.name for info in demo.snapshot_list("rfvmA")] == []
    assert "line one\n\tline two" in snapshot_xml("s1", "line one\n\tline two")  # lines and tabs are a description's own


def test_reset_reverts_to_the_current_snapshot_and_runs(demo):
    demo.snapshot_create("rfvmA", "clean")  # taken shut off
    results = demo.run_many("reset", ["rfvmA"])
    assert [(result.ok, result.message) for result in results] == [(True, "reverted to snapshot clean, running on host demo")]
    assert demo.is_running("rfvmA")


def test_reset_to_a_named_snapshot_and_refusals(demo, foreign):
    from rfconsole.virt.reset import NothingToReset

    demo.snapshot_create("rfvmB", "first")
    demo.snapshot_create("rfvmB", "second")
    assert demo.reset("rfvmB", snapshot="first", timeout=5).words == "reverted to snapshot first, running on host demo"
    with pytest.raises(SnapshotNotFound, match="no snapshot called 'third'"):
        demo.reset("rfvmB", snapshot="third")
    with pytest.raises(NothingToReset, match="rfvmC on host demo: it has no snapshot, and no disk that is an overlay of a base"):
        demo.reset("rfvmC")
    assert not demo.is_running("rfvmC")
    with pytest.raises(NotOwned, match=r"refusing to reset \(and lose what it wrote\) test on host"):
        foreign.reset("test")


def test_a_snapshot_without_a_name_is_named_by_the_utc_time(demo):
    """Fleet.snapshot_create's default name (model/snapshot.py's default_snapshot_name)."""
    said = demo.snapshot_create("rfvmA").words
    [info] = demo.snapshot_list("rfvmA")
    assert re.fullmatch(r"snap-\d{8}T\d{6}", info.name) and f"snapshot {info.name} of rfvmA taken" in said
