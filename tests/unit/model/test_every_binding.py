"""Every row of the field table (model/fields.py) is written and read (virt-manager's
tests/test_checkprops.py idea, for a table): each row has a case here that sets the field, finds
its value where libvirt's XML keeps it (an XPath written here, not taken from the table), and reads
it back, both for a new document and for an edit of an existing one. A row added to the table
without a case fails ``test_every_row_of_the_table_has_a_case``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from rfconsole.model import DomainSpec, KernelBoot, fields
from rfconsole.model.domainxml import RFCONSOLE_NS, DomainDocument
from rfconsole.model.fields import DISK_FIELDS, DOMAIN_FIELDS, INTERFACE_FIELDS

BASE = {
    "hypervisor": "qemu",
    "name": "probe",
    "image": "/srv/probe.qcow2",
    "interfaces": ({"mac": "02:00:00:00:00:01", "bridge": "br0"},),
    "disks": ({"type": "block", "source": "/dev/sdz", "target_dev": "vdb"},),
}
NIC = "devices/interface[1]"
DISK = "devices/disk[not(target/@dev='vda')]"  # the disk that is not the image (vda)


@dataclass(frozen=True)
class Case:
    changes: dict[str, Any]  # over BASE (for a device: over its first entry's fields)
    xpath: str  # below <domain>, what libvirt's XML says
    text: str  # what the XPath finds
    read: Any  # the value the spec read back from the document holds


DOMAIN_CASES = {
    "hypervisor": Case({"hypervisor": "kvm"}, "string(@type)", "kvm", "kvm"),
    "name": Case({"name": "probe2"}, "string(name)", "probe2", "probe2"),
    "id": Case({"id": 7}, "string(metadata/rfconsole:vm/@id)", "7", 7),
    "arch": Case({"arch": "aarch64"}, "string(os/type/@arch)", "aarch64", "aarch64"),
    "os_type": Case({"hypervisor": "lxc", "os_type": "exe", "image": None}, "string(os/type)", "exe", "exe"),
    "vcpu": Case({"vcpu": 3}, "string(vcpu)", "3", 3),
    "memory": Case({"memory": 1024}, "concat(memory, ' ', memory/@unit)", "1024 MiB", 1024),
    "image": Case({"image": "/srv/other.qcow2"}, "string(devices/disk[target/@dev='vda']/source/@file)", "/srv/other.qcow2", "/srv/other.qcow2"),
    "init": Case({"hypervisor": "lxc", "image": None, "init": "/bin/sh"}, "string(os/init)", "/bin/sh", "/bin/sh"),
    "kernel_boot.kernel": Case({"kernel_boot": KernelBoot(kernel="/boot/vmlinuz")}, "string(os/kernel)", "/boot/vmlinuz", "/boot/vmlinuz"),
    "kernel_boot.initrd": Case({"kernel_boot": KernelBoot(kernel="/boot/vmlinuz", initrd="/boot/initrd.img")}, "string(os/initrd)", "/boot/initrd.img", "/boot/initrd.img"),
    "kernel_boot.cmdline": Case({"kernel_boot": KernelBoot(kernel="/boot/vmlinuz", cmdline="console=ttyS0 quiet")}, "string(os/cmdline)", "console=ttyS0 quiet", "console=ttyS0 quiet"),
}
INTERFACE_CASES = {
    "type": Case({"type": "network", "bridge": None, "network": "default"}, f"string({NIC}/@type)", "network", "network"),
    "mac": Case({"mac": "02:AB:00:00:00:09"}, f"string({NIC}/mac/@address)", "02:ab:00:00:00:09", "02:ab:00:00:00:09"),
    "bridge": Case({"bridge": "br1"}, f"string({NIC}/source/@bridge)", "br1", "br1"),
    "network": Case({"bridge": None, "network": "lab"}, f"string({NIC}/source/@network)", "lab", "lab"),
    "source_dev": Case({"type": "direct", "bridge": None, "source_dev": "eth7"}, f"string({NIC}/source/@dev)", "eth7", "eth7"),
    "virtualport": Case({"virtualport": "openvswitch"}, f"string({NIC}/virtualport/@type)", "openvswitch", "openvswitch"),
    "target_dev": Case({"target_dev": "probe.0"}, f"string({NIC}/target/@dev)", "probe.0", "probe.0"),
    "model": Case({"model": "e1000"}, f"string({NIC}/model/@type)", "e1000", "e1000"),
}
DISK_CASES = {
    "type": Case({"type": "network", "protocol": "nbd", "source": "export"}, f"string({DISK}/@type)", "network", "network"),
    "device": Case({"device": "cdrom"}, f"string({DISK}/@device)", "cdrom", "cdrom"),
    "source": Case({"source": "/dev/sdy"}, f"string({DISK}/source/@dev)", "/dev/sdy", "/dev/sdy"),
    "pool": Case({"type": "volume", "pool": "tank", "source": "vol1"}, f"string({DISK}/source/@pool)", "tank", "tank"),
    "protocol": Case({"type": "network", "protocol": "iscsi", "source": "iqn.2026-12.lab:probe/1"}, f"string({DISK}/source/@protocol)", "iscsi", "iscsi"),
    "target_dev": Case({"target_dev": "vdc"}, f"string({DISK}/target/@dev)", "vdc", "vdc"),
    "bus": Case({"bus": "scsi"}, f"string({DISK}/target/@bus)", "scsi", "scsi"),
}
TABLES = {"domain": (DOMAIN_FIELDS, DOMAIN_CASES), "interface": (INTERFACE_FIELDS, INTERFACE_CASES), "disk": (DISK_FIELDS, DISK_CASES)}
ROWS = [(table, binding.key) for table, (bindings, _cases) in TABLES.items() for binding in bindings]


def uncovered_rows() -> dict[str, list[str]]:
    """The rows of the field table in use (a copy, in a test) that have no case here, by table."""
    in_use = {"domain": fields.DOMAIN_FIELDS, "interface": fields.INTERFACE_FIELDS, "disk": fields.DISK_FIELDS}
    return {table: [binding.key for binding in in_use[table] if binding.key not in TABLES[table][1]] for table in TABLES}


def test_every_row_of_the_table_has_a_case():
    for table, uncovered in uncovered_rows().items():
        assert not uncovered, f"rows of the {table} field table no test writes and reads: {uncovered}; add a case here"
    for table, (bindings, cases) in TABLES.items():
        assert set(cases) <= {binding.key for binding in bindings}, f"cases for rows the {table} table no longer has"


def _spec(table: str, case: Case | None) -> DomainSpec:
    values = dict(BASE)
    if case is not None and table == "domain":
        values.update(case.changes)
    elif case is not None:
        plural = "interfaces" if table == "interface" else "disks"
        values[plural] = ({**values[plural][0], **case.changes},)
    return DomainSpec.read(values)  # libvirt's rules: a direct interface is not one rfconsole creates


def _read_back(spec: DomainSpec, table: str, key: str) -> Any:
    if table == "interface":
        value = getattr(spec.interfaces[0], key)
    elif table == "disk":
        value = getattr(spec.disks[0], key)
    elif key.startswith("kernel_boot."):
        value = getattr(spec.kernel_boot, key.split(".", 1)[1])
    else:
        value = getattr(spec, key)
    return getattr(value, "value", value if value is None or isinstance(value, int) else str(value))


@pytest.mark.parametrize(("table", "key"), ROWS, ids=[f"{table}:{key}" for table, key in ROWS])
def test_each_row_is_written_where_libvirt_keeps_it_and_read_back(table, key):
    case = TABLES[table][1][key]
    wanted = _spec(table, case)
    new = DomainDocument.from_spec(wanted)
    edited = DomainDocument.from_spec(_spec(table, None))
    edited.apply(wanted)
    for how, document in (("a new document", new), ("an edited document", edited)):
        reread = DomainDocument.parse(document.to_xml())
        assert reread.root.xpath(case.xpath, namespaces={"rfconsole": RFCONSOLE_NS}) == case.text, f"{how}: {key} written elsewhere"
        assert _read_back(reread.spec(), table, key) == case.read, f"{how}: {key} read back differently"
        assert reread.spec() == wanted, f"{how}: reading it back changed the spec"


def test_a_file_disk_added_with_the_image_stays_its_own_disk():
    """The image is the first file disk (how a document is read); a spec's extra file disk was
    taken for the image when both were written at once, and the extra disk's file was lost."""
    spec = DomainSpec(**{**BASE, "disks": ({"source": "/srv/data.img", "target_dev": "vdb"},)})
    for document in (DomainDocument.from_spec(spec), DomainDocument.from_spec(DomainSpec(hypervisor="qemu", name="probe", kernel_boot=KernelBoot(kernel="/boot/k")))):
        document.apply(spec)
        reread = DomainDocument.parse(document.to_xml())
        assert reread.root.xpath("string(devices/disk[target/@dev='vdb']/source/@file)") == "/srv/data.img"
        assert reread.spec() == spec
