"""Golden files: the exact XML each rftest2 preset writes on each hypervisor rfconsole runs.

A change in what rfconsole writes shows up here as a diff to review. Regenerate deliberately
with RFCONSOLE_REGENERATE_GOLDEN=1 and read the diff before committing it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import libvirt
import pytest

from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import RFTEST2_VMS, preset_spec
from rfconsole.model.schema import schema_problems

GOLDEN = Path(__file__).parent / "data" / "golden"
WORKDIR = Path("/nonexistent/rftest2")  # no image exists there: the kind is a file on every host
CASES = [(vm, hypervisor) for vm in RFTEST2_VMS for hypervisor in ("kvm", "qemu", "lxc", "test")]
VIRT_XML_VALIDATE = shutil.which("virt-xml-validate")


def _written(vm: str, hypervisor: str) -> str:
    return DomainDocument.from_spec(preset_spec(vm, hypervisor, WORKDIR)).to_xml()


@pytest.mark.parametrize(("vm", "hypervisor"), CASES, ids=lambda value: str(value))
def test_a_preset_writes_its_golden_file(vm, hypervisor):
    golden = GOLDEN / f"{vm}-{hypervisor}.xml"
    text = _written(vm, hypervisor)
    if os.environ.get("RFCONSOLE_REGENERATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text(), f"{golden.name} differs from what the preset writes"
    document = DomainDocument.parse(text, golden.name)
    assert schema_problems(document) == []
    assert document.spec() == preset_spec(vm, hypervisor, WORKDIR)  # and it reads back as written


def test_virt_xml_validate_accepts_every_golden_file():
    assert VIRT_XML_VALIDATE, "virt-xml-validate is missing: scripts/setup.sh installs it (libvirt-clients)"
    files = sorted(GOLDEN.glob("*.xml"))
    assert len(files) == len(CASES)
    for path in files:
        done = subprocess.run([VIRT_XML_VALIDATE, str(path), "domain"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{path.name}: {done.stdout}{done.stderr}"


def test_the_test_driver_defines_the_test_presets():
    connection = libvirt.open("test:///default")
    try:
        for vm in RFTEST2_VMS:
            text = (GOLDEN / f"{vm}-test.xml").read_text()
            domain = connection.defineXMLFlags(text, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
            defined = DomainDocument.parse(domain.XMLDesc(0), "test driver").spec()
            assert (defined.name, defined.memory, defined.vcpu) == (vm, 512, 1)
            assert [nic.mac for nic in defined.interfaces] == [nic.mac for nic in preset_spec(vm, "test", WORKDIR).interfaces]
    finally:
        connection.close()
