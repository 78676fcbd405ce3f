"""DomainDocument: spec -> XML, XML -> spec, and edits that keep everything else."""

import copy
from pathlib import Path

import pytest
from lxml import etree

from rfconsole.model import DomainSpec, Hypervisor, Interface, InvalidSpec, KernelBoot
from rfconsole.model.domainxml import RFCONSOLE_NS, DomainDocument, unit_bytes
from rfconsole.model.schema import schema_problems

NIC_A0 = Interface(mac="02:a0:a0:a0:a0:a0", bridge="lxcbr0")
NIC_A1 = Interface(mac="02:a1:a1:a1:a1:a1", bridge="dp0", virtualport="openvswitch", target_dev="rfvmA.1", model="virtio")


def xpath(document: DomainDocument, path: str):
    return document.root.xpath(path, namespaces={"rfconsole": RFCONSOLE_NS})


def test_kvm_document_has_the_seeds_fixed_parts_and_the_mark():
    spec = DomainSpec(hypervisor="kvm", name="rfvmA", id=1, vcpu=2, memory=768, image="/w/Images/h1.qcow2", interfaces=[NIC_A0, NIC_A1])
    document = DomainDocument.from_spec(spec)
    assert xpath(document, "string(@type)") == "kvm"
    assert xpath(document, "string(on_poweroff)") == "destroy"
    assert xpath(document, "string(on_reboot)") == "restart"
    assert xpath(document, "string(on_crash)") == "restart"
    assert xpath(document, "string(devices/console/@type)") == "pty"
    assert xpath(document, "string(metadata/rfconsole:vm/@id)") == "1"
    assert xpath(document, "string(memory/@unit)") == "MiB" and xpath(document, "string(memory)") == "768"
    assert xpath(document, "string(os/type)") == "hvm" and xpath(document, "string(os/boot/@dev)") == "hd"
    assert xpath(document, "features/acpi"), "a VM without ACPI ignores graceful shutdown"
    assert xpath(document, "string(devices/disk/driver/@type)") == "qcow2"
    assert xpath(document, "string(devices/disk/source/@file)") == "/w/Images/h1.qcow2"
    assert xpath(document, "string(devices/disk/target/@dev)") == "vda"
    assert xpath(document, "string(devices/interface[2]/virtualport/@type)") == "openvswitch"
    assert xpath(document, "string(devices/interface[2]/target/@dev)") == "rfvmA.1"
    assert document.owned and document.name == "rfvmA" and document.hypervisor is Hypervisor.KVM
    assert document.spec() == spec


def test_lxc_document_uses_a_filesystem_root(tmp_path):
    folder = DomainDocument.from_spec(DomainSpec(hypervisor="lxc", name="c", image=tmp_path))
    assert xpath(folder, "string(os/type)") == "exe" and xpath(folder, "string(os/init)") == "/sbin/init"
    assert xpath(folder, "string(devices/filesystem/@type)") == "mount"
    assert xpath(folder, "string(devices/filesystem/source/@dir)") == str(tmp_path)
    assert xpath(folder, "string(devices/filesystem/target/@dir)") == "/"
    assert not xpath(folder, "devices/disk") and not xpath(folder, "os/boot")
    assert not xpath(folder, "features/acpi")
    image = DomainDocument.from_spec(DomainSpec(hypervisor="lxc", name="c", image="/w/root.img"))
    assert xpath(image, "string(devices/filesystem/@type)") == "file"
    assert xpath(image, "string(devices/filesystem/driver/@type)") == "loop"
    assert xpath(image, "string(devices/filesystem/driver/@format)") == "raw"
    assert xpath(image, "string(devices/filesystem/source/@file)") == "/w/root.img"
    bare = DomainDocument.from_spec(DomainSpec(hypervisor="lxc", name="c", init="/bin/sh"))
    assert not xpath(bare, "devices/filesystem") and xpath(bare, "string(os/init)") == "/bin/sh"


def test_direct_kernel_boot_needs_no_disk():
    spec = DomainSpec(hypervisor="qemu", name="tiny", kernel_boot=KernelBoot(kernel="/g/vmlinuz", initrd="/g/initrd.cpio", cmdline="console=ttyS0 quiet"))
    document = DomainDocument.from_spec(spec)
    assert xpath(document, "string(os/kernel)") == "/g/vmlinuz"
    assert xpath(document, "string(os/initrd)") == "/g/initrd.cpio"
    assert xpath(document, "string(os/cmdline)") == "console=ttyS0 quiet"
    assert not xpath(document, "devices/disk") and not xpath(document, "os/boot")
    assert document.spec() == spec


def test_seed_template_is_read_leniently(seed_xml):
    document = DomainDocument.parse(seed_xml, "seed.xml")
    spec = document.spec()
    assert spec.hypervisor is Hypervisor.KVM and spec.id == 7 and spec.name == "rfvmA"
    assert spec.memory == 488  # 512 MB is 512 * 10^6 bytes in libvirt's units
    assert spec.image == Path("/home/routeflow/RouteFlow/rftest/Images/h1.img")
    notes = " ".join(document.notes())
    assert "'KVM'" in notes and "<domain id=…>" in notes and "488.28 MiB" in notes


def test_apply_unchanged_keeps_the_document_byte_for_byte(seed_xml, handwritten_xml):
    for data in (seed_xml, handwritten_xml):
        document = DomainDocument.parse(data)
        before = document.to_xml()
        document.apply(document.spec())
        assert document.to_xml() == before


def test_changing_one_field_of_a_hand_written_file_changes_only_it(handwritten_xml):
    document = DomainDocument.parse(handwritten_xml)
    document.apply(document.spec().with_changes(vcpu=4))
    expected = handwritten_xml.decode().replace('<vcpu placement="static">2</vcpu>', '<vcpu placement="static">4</vcpu>')
    assert document.canonical() == DomainDocument.parse(expected).canonical()


def test_memory_change_writes_mib_and_current_memory(handwritten_xml):
    document = DomainDocument.parse(handwritten_xml)
    document.apply(document.spec().with_changes(memory=1024))
    assert xpath(document, "string(memory)") == "1024" and xpath(document, "string(memory/@unit)") == "MiB"
    assert xpath(document, "string(currentMemory)") == "1024" and xpath(document, "string(currentMemory/@unit)") == "MiB"


@pytest.mark.parametrize(
    ("unit", "size"),
    [(None, 1024), ("b", 1), ("bytes", 1), ("KB", 1000), ("k", 1024), ("KiB", 1024), ("MB", 10**6), ("M", 2**20),
     ("MiB", 2**20), ("GB", 10**9), ("G", 2**30), ("GiB", 2**30), ("TB", 10**12), ("TiB", 2**40), ("parsec", None)],
)
def test_memory_units(unit, size):
    assert unit_bytes(unit) == size


def test_hypervisor_switch_from_qemu_to_lxc_restructures_the_root(handwritten_xml, tmp_path):
    document = DomainDocument.parse(handwritten_xml)
    spec = document.spec()
    lxc = spec.with_changes(hypervisor="lxc", os_type=None, image=tmp_path, image_kind=None, init=None)
    document.apply(lxc)
    assert xpath(document, "string(os/type)") == "exe" and not xpath(document, "os/boot")
    assert xpath(document, "string(devices/filesystem/source/@dir)") == str(tmp_path)
    assert len(xpath(document, "devices/disk")) == 1  # the cdrom stays; the root disk went
    assert document.spec() == lxc


def test_every_interface_is_modelled_and_matched_by_mac(handwritten_xml):
    document = DomainDocument.parse(handwritten_xml)
    spec = document.spec()
    assert [(nic.type, nic.mac) for nic in spec.interfaces] == [
        ("bridge", "02:b0:b0:b0:b0:b0"),
        ("user", "52:54:00:12:34:56"),
        ("bridge", "02:b1:b1:b1:b1:b1"),
    ]
    extra = Interface(mac="02:b2:b2:b2:b2:b2", bridge="dp0", virtualport="openvswitch", target_dev="rfvmB.2")
    document.apply(spec.with_changes(interfaces=(*spec.interfaces, extra)))
    macs = xpath(document, "devices/interface/mac/@address")
    assert macs == ["02:b0:b0:b0:b0:b0", "52:54:00:12:34:56", "02:b1:b1:b1:b1:b1", "02:b2:b2:b2:b2:b2"]
    assert xpath(document, "string(devices/interface[3]/virtualport/parameters/@interfaceid)")
    document.apply(document.spec().with_changes(interfaces=spec.interfaces[:1]))
    assert xpath(document, "devices/interface/mac/@address") == ["02:b0:b0:b0:b0:b0"]


def _children_by_mac(document):
    """Each NIC's MAC -> its element without the modelled parts (what must travel with it)."""
    rests = {}
    for element in document.root.iterfind("devices/interface"):
        mac = element.find("mac").get("address")
        rest = copy.deepcopy(element)
        for child in list(rest):
            if child.tag in ("mac", "source", "target", "model", "virtualport"):
                rest.remove(child)
            else:
                child.tail = None
        rest.text = None
        rests[mac] = etree.tostring(rest, method="c14n")
    return rests


def test_removing_or_reordering_a_nic_keeps_each_nics_own_children(handwritten_xml):
    document = DomainDocument.parse(handwritten_xml)
    spec = document.spec()
    before = _children_by_mac(document)
    assert b"<address" in before["02:b1:b1:b1:b1:b1"] or b"<driver" in before["02:b1:b1:b1:b1:b1"] or len(set(before.values())) == 3
    first, user, last = spec.interfaces
    document.apply(spec.with_changes(interfaces=(last, first)))  # the user NIC removed, the other two swapped
    assert xpath(document, "devices/interface/mac/@address") == ["02:b1:b1:b1:b1:b1", "02:b0:b0:b0:b0:b0"]
    after = _children_by_mac(document)
    assert after == {mac: before[mac] for mac in (last.mac, first.mac)}
    assert schema_problems(document) == []
    assert document.spec().interfaces == (last, first)
    back = DomainDocument.parse(document.to_xml())
    back.apply(back.spec().with_changes(lenient=True, interfaces=(first, user, last)))
    assert _children_by_mac(back)[last.mac] == before[last.mac] and _children_by_mac(back)[first.mac] == before[first.mac]


def test_reading_a_document_that_breaks_rules_names_the_fields():
    document = DomainDocument.parse("<domain type='bogus'><memory>x</memory></domain>", "bad.xml")
    with pytest.raises(InvalidSpec) as caught:
        document.spec()
    fields = {problem.field for problem in caught.value.problems}
    assert {"hypervisor", "name", "memory"} <= fields
    assert "bad.xml" in str(caught.value)


def test_new_elements_follow_the_documents_layout(seed_xml):
    compact = DomainDocument.parse("<domain type='qemu'><name>q</name><memory>65536</memory><os><type>hvm</type><kernel>/k</kernel></os><devices/></domain>")
    compact.apply(compact.spec().with_changes(interfaces=[NIC_A1], id=4))
    assert "\n" not in compact.to_xml().strip()
    seed = DomainDocument.parse(seed_xml)
    seed.apply(DomainSpec(**{**seed.values(), "id": 3, "interfaces": [NIC_A0]}))
    text = seed.to_xml()
    assert "<interface type=\"bridge\">\n\t<mac address=\"02:a0:a0:a0:a0:a0\"/>\n\t<source bridge=\"lxcbr0\"/>\n</interface>" in text
    assert "<metadata>\n\t<rfconsole:vm" in text
    indented = DomainDocument.parse("<domain type='qemu'>\n  <name>q</name>\n  <memory>65536</memory>\n  <os>\n    <type>hvm</type>\n  </os>\n  <devices/>\n</domain>")
    indented.apply(DomainSpec(**{**indented.values(), "image": "/x.img"}))
    assert "  <devices>\n    <disk type=\"file\" device=\"disk\">\n      <driver name=\"qemu\" type=\"raw\"/>" in indented.to_xml()
    assert "    <type>hvm</type>\n    <boot dev=\"hd\"/>\n  </os>" in indented.to_xml()


def test_switching_from_disk_to_kernel_boot_drops_the_disk_boot():
    document = DomainDocument.from_spec(DomainSpec(hypervisor="qemu", name="q", image="/x.img"))
    document.apply(document.spec().with_changes(image=None, kernel_boot={"kernel": "/k"}))
    assert not xpath(document, "os/boot") and not xpath(document, "devices/disk")
    assert xpath(document, "string(os/kernel)") == "/k"


def test_virsh_dumpxml_output_is_read_and_edited_in_place():
    """`virsh -c test:///default dumpxml test`, as libvirt 9 writes it."""
    data = (Path(__file__).parent / "data" / "virsh_dumpxml_test.xml").read_bytes()
    document = DomainDocument.parse(data, "dump.xml")
    spec = document.spec()
    assert (spec.hypervisor, spec.id, spec.vcpu, spec.memory, spec.arch.value) == (Hypervisor.TEST, 1, 2, 8192, "i686")
    assert spec.interfaces == (Interface(mac="aa:bb:cc:dd:ee:ff", network="default", target_dev="testnet0"),)
    assert not document.owned
    document.apply(spec.with_changes(memory=4096))
    text = document.to_xml()
    assert "<memory unit=\"MiB\">4096</memory>" in text
    assert "<currentMemory unit='KiB'>2097152</currentMemory>".replace("'", '"') in text  # the balloon target is kept
    document.apply(document.spec().with_changes(memory=1024))
    assert "<currentMemory unit=\"MiB\">1024</currentMemory>" in document.to_xml()  # never above the memory
    assert text.count("<address type=\"pci\"") == 3 and "6695eb01-f6a4-8304-79aa-97f2502e193f" in text


def test_vcpu_change_keeps_fewer_online_vcpus_and_clamps():
    document = DomainDocument.parse("<domain type='qemu'><name>q</name><memory>65536</memory><vcpu current='2'>4</vcpu><os><type>hvm</type><kernel>/k</kernel></os></domain>")
    document.apply(document.spec().with_changes(vcpu=8))
    assert xpath(document, "string(vcpu/@current)") == "2"
    document.apply(document.spec().with_changes(vcpu=1))
    assert xpath(document, "string(vcpu/@current)") == "1"
    document.apply(document.spec().with_changes(vcpu=3))
    assert xpath(document, "string(vcpu/@current)") == "3"  # all were online, so all still are


def test_switching_to_lxc_drops_vm_only_os_parts_and_says_so(handwritten_xml, tmp_path):
    document = DomainDocument.parse(handwritten_xml)
    document.apply(DomainSpec.read({**document.values(), "hypervisor": "lxc", "os_type": None, "image": tmp_path, "image_kind": None}))
    assert not xpath(document, "os/boot") and not xpath(document, "os/bootmenu") and not xpath(document, "os/type/@machine")
    assert any("bootmenu" in dropped for dropped in document.dropped) and any("machine='pc'" in dropped for dropped in document.dropped)
    assert schema_problems(document) == []
    back = DomainDocument.parse(document.to_xml())
    back.apply(DomainSpec.read({**back.values(), "hypervisor": "qemu", "os_type": None, "init": None, "image": "/x.qcow2", "image_kind": None}))
    assert xpath(back, "string(os/boot/@dev)") == "hd" and not xpath(back, "os/init")
    assert schema_problems(back) == []
