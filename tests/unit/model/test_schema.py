"""libvirt's domain.rng, in words; and libvirt's test driver defines what the model writes."""

from pathlib import Path

import libvirt
import pytest

from rfconsole.model import DomainSpec
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import RFTEST2_VMS, preset_spec
from rfconsole.model.schema import SchemaUnavailable, domain_schema, schema_problems


def problems(text: str) -> list[str]:
    return [str(problem) for problem in schema_problems(DomainDocument.parse(text))]


BASE = "<domain type='qemu'>\n<name>a</name>\n<memory>65536</memory>\n<os><type>hvm</type></os>\n{extra}</domain>"


def test_a_valid_document_has_no_problems(handwritten_xml):
    assert schema_problems(DomainDocument.parse(handwritten_xml)) == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (BASE.replace("'qemu'", "'KVM'").format(extra=""), "line 1: <domain type=…> must be lower case (given: 'KVM')"),
        (BASE.format(extra="<vcpu>many</vcpu>\n"), "line 5: <vcpu> is not accepted by libvirt's schema here: a value of the wrong form"),
        ("<domain type='qemu'>\n<name>a</name>\n<os><type>hvm</type></os>\n<vcpu>x</vcpu></domain>", "line 4: <vcpu> must be a whole number"),
        (BASE.format(extra="<devices>\n<disk type='file' device='disk'>\n<source file='rel.img'/><target dev='vda'/></disk></devices>\n"), "line 7: libvirt's schema does not accept the attribute file of <source>"),
        (BASE.format(extra="<devices>\n<gizmo/>\n</devices>\n"), "line 6: <gizmo> is not accepted by libvirt's schema here"),
        (BASE.replace("<os><type>hvm</type></os>", "<os><type>hvm</type><boot dev='floppyx'/></os>").format(extra=""), "<boot> has an attribute libvirt does not accept (dev='floppyx')"),
        (BASE.replace("'qemu'", "'lxc'").replace("<os><type>hvm</type></os>", "<os><type>exe</type>\n<boot dev='hd'/></os>").format(extra=""), "line 5: <boot> is not accepted by libvirt's schema here"),
    ],
)
def test_schema_problems_are_translated_into_words_with_lines(text, words):
    found = problems(text)
    assert any(words in problem for problem in found), found
    assert not any("failed to validate" in problem or "interleave" in problem for problem in found)


def test_the_schema_is_loaded_once():
    assert domain_schema() is domain_schema()


def test_a_missing_schema_names_the_debian_package(tmp_path):
    with pytest.raises(SchemaUnavailable) as caught:
        schema_problems(DomainDocument.parse(BASE.format(extra="")), path=tmp_path / "domain.rng")
    assert "libvirt0" in caught.value.hint and "missing" in caught.value.message


def _specs(tmp_path: Path):
    yield DomainSpec(hypervisor="kvm", name="k1", image="/srv/k1.qcow2")
    yield DomainSpec(hypervisor="qemu", name="q1", kernel_boot={"kernel": "/g/vmlinuz", "initrd": "/g/initrd", "cmdline": "console=ttyS0"})
    yield DomainSpec(hypervisor="lxc", name="l1", image=tmp_path)
    yield DomainSpec(hypervisor="lxc", name="l2", image="/srv/l2.img")
    yield DomainSpec(hypervisor="lxc", name="l3", init="/bin/sh")
    yield DomainSpec(hypervisor="test", name="t1")
    for vm in RFTEST2_VMS:
        yield preset_spec(vm, "test", tmp_path)


def test_libvirt_test_driver_defines_and_validates_what_the_model_writes(tmp_path):
    connection = libvirt.open("test:///default")
    try:
        for spec in _specs(tmp_path):
            domain = connection.defineXMLFlags(DomainDocument.from_spec(spec).to_xml(), libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
            defined = DomainDocument.parse(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
            assert defined.owned and defined.spec().name == spec.name
            assert defined.spec().memory == spec.memory and defined.spec().image == spec.image
            assert [nic.mac for nic in defined.spec().interfaces] == [nic.mac for nic in spec.interfaces]
            domain.undefine()
    finally:
        connection.close()
