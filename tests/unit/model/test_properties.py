"""Property-based round trips: spec -> XML -> spec, parse -> apply(same) -> same XML, and a
changed field changes only itself, even in hand-written files full of things rfconsole does not model."""

import copy
import re

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree

from rfconsole.model import DomainSpec, Interface, InvalidSpec
from rfconsole.model.domainxml import MARK_TAG, DomainDocument
from rfconsole.model.schema import schema_problems

from .conftest import DATA

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}", fullmatch=True)
paths = st.from_regex(r"/[A-Za-z0-9_.-]{1,12}(/[A-Za-z0-9_. -]{1,12}){0,3}", fullmatch=True).filter(lambda path: not path.endswith("/"))
macs = st.tuples(st.integers(0, 127).map(lambda first: first * 2), st.lists(st.integers(0, 255), min_size=5, max_size=5)).map(
    lambda parts: ":".join(f"{byte:02x}" for byte in [parts[0], *parts[1]])
)
devices = st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,14}", fullmatch=True)


@st.composite
def interfaces(draw):
    if draw(st.booleans()):
        return Interface(
            mac=draw(st.none() | macs),
            bridge=draw(devices),
            virtualport=draw(st.sampled_from([None, "openvswitch"])),
            target_dev=draw(st.none() | devices),
            model=draw(st.sampled_from([None, "virtio", "e1000"])),
        )
    return Interface(mac=draw(st.none() | macs), network=draw(st.sampled_from(["default", "mgmt"])), model=draw(st.sampled_from([None, "virtio"])))


@st.composite
def specs(draw, hypervisors=("kvm", "qemu", "lxc", "test")):
    hypervisor = draw(st.sampled_from(hypervisors))
    settings = {
        "hypervisor": hypervisor,
        "name": draw(names),
        "id": draw(st.none() | st.integers(1, 2**31 - 1)),
        "arch": draw(st.sampled_from([None, "i686", "x86_64"])),
        "vcpu": draw(st.integers(1, 64)),
        "memory": draw(st.integers(1, 1 << 20)),
        "interfaces": draw(st.lists(interfaces(), max_size=4)),
    }
    if hypervisor == "lxc":
        image = draw(st.none() | paths)
        settings["image"] = image
        if image is not None:
            settings["image_kind"] = draw(st.sampled_from(["file", "folder"]))
        settings["init"] = draw(st.none() | paths)
    else:
        kernel = draw(st.none() | st.fixed_dictionaries({"kernel": paths, "initrd": st.none() | paths, "cmdline": st.none() | st.from_regex(r"[a-z0-9=_ ]{1,30}", fullmatch=True)}))
        settings["kernel_boot"] = kernel
        settings["image"] = draw(paths if kernel is None and hypervisor != "test" else st.none() | paths)
        if settings["image"] is not None:
            settings["image_kind"] = "file"
    try:
        return DomainSpec(**settings)
    except InvalidSpec:
        assume(False)


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(specs())
def test_spec_to_xml_to_spec_is_identity_and_valid_for_libvirt(spec):
    document = DomainDocument.from_spec(spec)
    assert document.spec() == spec
    assert DomainDocument.parse(document.to_xml()).spec() == spec
    assert schema_problems(document) == []


@FAST
@given(specs())
def test_apply_of_the_unchanged_spec_changes_nothing(spec):
    text = DomainDocument.from_spec(spec).to_xml()
    document = DomainDocument.parse(text)
    document.apply(document.spec())
    assert document.to_xml() == text


HANDWRITTEN = (DATA / "handwritten.xml").read_bytes()
HANDWRITTEN_LXC = (DATA / "handwritten_lxc.xml").read_bytes()
SEED = (DATA / "seed_template.xml").read_bytes()


def test_apply_unchanged_on_the_fixtures_is_byte_identical():
    for data in (HANDWRITTEN, HANDWRITTEN_LXC, SEED):
        document = DomainDocument.parse(data)
        before = document.canonical()
        document.apply(document.spec())
        assert document.canonical() == before


# ----------------------------------------------------------------------------- one change, only it
def _strip_modelled(document: DomainDocument) -> bytes:
    """The document without what the model owns, whitespace-insensitive: what must never change."""
    root = copy.deepcopy(document.root)
    for name in ("type", "id"):
        root.attrib.pop(name, None)
    for element in root.iter(MARK_TAG):
        element.getparent().remove(element)
    metadata = root.find("metadata")
    if metadata is not None and len(metadata) == 0:
        root.remove(metadata)
    for tag in ("name", "memory", "currentMemory"):
        element = root.find(tag)
        if element is not None:
            element.text = None
            element.attrib.pop("unit", None)
    vcpu = root.find("vcpu")
    if vcpu is not None:
        vcpu.text = None
        vcpu.attrib.pop("current", None)
    os_element = root.find("os")
    if os_element is not None:
        type_element = os_element.find("type")
        type_element.text = None
        type_element.attrib.pop("arch", None)
        for tag in ("kernel", "initrd", "cmdline", "init", "boot"):
            for element in os_element.findall(tag):
                os_element.remove(element)
    devices = root.find("devices")
    root_disk = next((disk for disk in devices.findall("disk") if disk.get("device", "disk") == "disk"), None)
    if root_disk is not None:
        root_disk.find("source").attrib.pop("file", None)
        driver = root_disk.find("driver")
        if driver is not None:
            driver.attrib.pop("type", None)
    for filesystem in devices.findall("filesystem"):
        if filesystem.find("target").get("dir") == "/":
            filesystem.find("source").attrib.pop("dir", None)
    for interface in devices.findall("interface"):
        devices.remove(interface)  # every interface is modelled: compared one by one in _interface_rests
    _drop_blank_text(root)
    return etree.tostring(root, method="c14n", with_comments=True)


def _interface_rests(document: DomainDocument) -> list[bytes]:
    """Each modelled interface without its modelled parts: what an interface edit must keep."""
    rests = []
    for interface in document.root.find("devices").findall("interface"):
        interface = copy.deepcopy(interface)
        interface.attrib.pop("type")
        for tag, attribute in (("mac", "address"), ("source", "bridge"), ("source", "network"), ("source", "dev"), ("virtualport", "type"), ("target", "dev"), ("model", "type")):
            child = interface.find(tag)
            if child is not None:
                child.attrib.pop(attribute, None)
                if not child.attrib and len(child) == 0:
                    interface.remove(child)
        _drop_blank_text(interface)
        rests.append(etree.tostring(interface, method="c14n", with_comments=True))
    return rests


def _drop_blank_text(root) -> None:
    for element in root.iter():
        if element.text is not None and not element.text.strip():
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None


@st.composite
def changes(draw, original: DomainSpec):
    if original.hypervisor.is_container:
        field = draw(st.sampled_from(["name", "id", "vcpu", "memory", "arch", "folder", "init", "interfaces", "mac"]))
    else:
        field = draw(st.sampled_from(["name", "id", "vcpu", "memory", "arch", "image", "hypervisor", "interfaces", "kernel_boot", "mac"]))
    if field == "folder":
        return {"image": draw(paths), "image_kind": "folder"}
    if field == "init":
        return {"init": draw(paths)}
    if field == "name":
        return {"name": draw(names)}
    if field == "id":
        return {"id": draw(st.integers(1, 2**31 - 1))}
    if field == "vcpu":
        return {"vcpu": draw(st.integers(1, 64))}
    if field == "memory":
        return {"memory": draw(st.integers(1, 1 << 20))}
    if field == "arch":
        return {"arch": draw(st.sampled_from([None, "i686", "x86_64"]))}
    if field == "image":
        return {"image": draw(paths), "image_kind": "file"}
    if field == "hypervisor":
        return {"hypervisor": draw(st.sampled_from(["kvm", "qemu", "test"]))}
    if field == "kernel_boot":
        return {"kernel_boot": draw(st.none() | st.fixed_dictionaries({"kernel": paths, "initrd": st.none() | paths, "cmdline": st.none() | st.just("console=ttyS0")}))}
    if field == "mac":
        index = draw(st.integers(0, len(original.interfaces) - 1))
        nics = list(original.interfaces)
        nics[index] = nics[index].with_changes(mac=draw(macs))
        return {"interfaces": nics}
    return {"interfaces": draw(st.lists(interfaces(), max_size=4))}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([HANDWRITTEN, HANDWRITTEN_LXC]), st.data())
def test_a_changed_field_of_a_hand_written_file_changes_only_that_field(fixture, data):
    document = DomainDocument.parse(fixture)
    original = document.spec()
    change = data.draw(changes(original))
    try:
        wanted = original.with_changes(**change)
    except InvalidSpec:
        assume(False)
    untouched = _strip_modelled(document)
    interface_rests = _interface_rests(document)
    document.apply(wanted)
    assert document.spec() == wanted
    assert _strip_modelled(document) == untouched
    kept = min(len(original.interfaces), len(wanted.interfaces))
    after = _interface_rests(document)
    assert after[:kept] == interface_rests[:kept]
    assert all(rest == b"<interface></interface>" for rest in after[kept:])  # new ones hold only modelled parts
    assert schema_problems(document) == []
    # and, as text, only lines of the changed field differ
    changed_lines = _diff_lines(DomainDocument.parse(fixture).to_xml(), document.to_xml())
    if "interfaces" not in change:
        assert all(not re.search(r"<!--|uuid|address type|cdrom|controller|memballoon|qemu:arg|idmap|initarg|/shared|link state", line) for line in changed_lines), changed_lines


def _diff_lines(before: str, after: str) -> list[str]:
    import difflib

    return [line[1:] for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"]


def test_a_memory_that_is_not_whole_mib_is_kept_unless_changed():
    text = HANDWRITTEN.decode().replace('<memory unit="KiB">524288</memory>', '<memory unit="KB">500001</memory>')
    document = DomainDocument.parse(text)
    spec = document.spec()
    assert spec.memory == 477
    document.apply(spec.with_changes(vcpu=5))
    assert '<memory unit="KB">500001</memory>' in document.to_xml()
    document.apply(document.spec().with_changes(memory=600))
    assert '<memory unit="MiB">600</memory>' in document.to_xml()


def _rests_by_mac(document: DomainDocument) -> dict[str, bytes]:
    """Each NIC's MAC -> its element without what the model owns: what must travel with it."""
    rests = {}
    for interface in document.root.find("devices").findall("interface"):
        mac = interface.find("mac").get("address")
        interface = copy.deepcopy(interface)
        interface.attrib.pop("type")
        for tag, attribute in (("mac", "address"), ("source", "bridge"), ("source", "network"), ("source", "dev"), ("virtualport", "type"), ("target", "dev"), ("model", "type")):
            child = interface.find(tag)
            if child is not None:
                child.attrib.pop(attribute, None)
                if not child.attrib and len(child) == 0:
                    interface.remove(child)
        _drop_blank_text(interface)
        rests[mac] = etree.tostring(interface, method="c14n", with_comments=True)
    return rests


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_removing_and_reordering_nics_keeps_each_nics_own_children(data):
    document = DomainDocument.parse(HANDWRITTEN)
    original = document.spec()
    before = _rests_by_mac(document)
    kept = data.draw(st.permutations(original.interfaces).flatmap(lambda nics: st.integers(0, len(nics)).map(lambda n: tuple(nics[:n]))))
    document.apply(original.with_changes(lenient=True, interfaces=kept))
    assert document.spec().interfaces == kept
    assert _rests_by_mac(document) == {nic.mac: before[nic.mac] for nic in kept}
    assert schema_problems(document) == []
