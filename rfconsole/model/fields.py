"""The field table: every field rfconsole models of a domain, one row each, and everything else
comes from it (virtinst's XMLProperty idea, as data): the pydantic models (spec.py) and the
pydantic-free reader (rules.py) take each field's rule, type and default from its row; the XML
reader and writer (domainxml.py) its node and converter; the CLI its ``xml new`` option, ``xml set``
key and ``--nic`` key; the console wizard its step and label.

A ``Binding`` names a DomainSpec field, the path of its node below ``<domain>`` (XPath's
``a/b`` for an element's text, ``a/b/@attr`` for an attribute) and its converter: how the node's
text becomes the field's value and back. Most fields are handled by the generic code in
domainxml.py from the path alone; a converter other than "text"/"int" names a rule that needs
more than one node (memory and its ``<currentMemory>``, the id in rfconsole's mark, the image
found among the disks or filesystems) and is implemented there once. ``rule`` names the field's
rule, a function ``(value, lenient) -> value`` in model/rules.py (the one place of the rules).

Each interface and each disk is a view bound to its own element, found by its identity (a NIC's
MAC, a disk's target device), never by position, so what rfconsole does not model inside it
(<address>, <driver>, filterref …) stays with it whatever happens to its neighbours.

A new field is its row here (and its rule in rules.py when no existing one fits).

Plain data only: the command line's parsers read the options and keys from here, and must not
import pydantic or lxml (tests/unit/test_startup.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rfconsole.model.kinds import Arch, Hypervisor, ImageKind, OSType


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


REQUIRED: Any = _Marker("REQUIRED")  # a row's default: the field has none, it must be given
GROUP: Any = _Marker("GROUP")  # a row's kind: a model of its own, whose fields are the rows "KEY.field" (kernel_boot.kernel …)


@dataclass(frozen=True)
class Flag:
    """A field's option of ``xml new`` (its dest is argparse's: --os-type -> os_type), or an
    interface field's KEY=VALUE of ``--nic`` (name: the key)."""

    name: str  # --vcpu
    metavar: str
    help: str
    required: bool = False

    @property
    def dest(self) -> str:
        return self.name.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Binding:
    """One field: where it lives in the XML, its rule, its type and default, and its faces."""

    key: str  # the DomainSpec field ("kernel_boot.kernel" for a nested one); its last part is the `xml set` key
    path: str  # below <domain>: "vcpu" (text), "os/type/@arch" (attribute), "@type" (<domain>'s own attribute); "": no node of its own
    converter: str = "text"  # text, int, lower, raw, memory-mib, rfconsole-id, root-storage, mac, disk-source
    label: str = ""  # in words, for `xml set --help`, `xml show` and the wizard
    rule: str = ""  # its rule's name in model/rules.py; "": none (the value as given)
    kind: Any = str  # what the value is: str, int, Path (a host path), an Enum of kinds.py, GROUP, or a table of rows (one per item)
    default: Any = None  # REQUIRED: none
    nullable: bool = True  # None is a value
    clearable: bool = False  # `xml set KEY=` removes the setting
    settable: bool = True  # a key of `xml set`
    step: str = ""  # the console wizard's step that asks for it (and shows its problems)
    flag: Flag | None = None  # its option of `xml new`
    nic: Flag | None = None  # an interface's: its KEY=VALUE in `xml new --nic`

    @property
    def set_key(self) -> str:
        return self.key.rsplit(".", 1)[-1]

    @property
    def nic_key(self) -> str:
        return self.nic.name if self.nic is not None else ""

    @property
    def many(self) -> bool:
        """A tuple of items, each a model of the rows ``kind``."""
        return isinstance(self.kind, tuple)

    @property
    def host_path(self) -> bool:
        """A path on the host: given relative to the current directory, ``~`` expanded."""
        return self.kind is Path


# Inside each <interface>; identity: the MAC.
INTERFACE_FIELDS: tuple[Binding, ...] = (
    Binding("type", "@type", "text", "type (bridge, network, user, direct …)", rule="interface_type"),
    Binding("mac", "mac/@address", "mac", "MAC address", rule="mac_address", nic=Flag("mac", "M", "MAC address")),
    Binding("bridge", "source/@bridge", "text", "host bridge", rule="device_name", nic=Flag("bridge", "BR", "host bridge")),
    Binding("network", "source/@network", "text", "libvirt network", rule="network_name", nic=Flag("network", "NET", "libvirt network")),
    Binding("source_dev", "source/@dev", "text", "host device", rule="device_name"),
    Binding("virtualport", "virtualport/@type", "text", "virtual port type (openvswitch …)", rule="virtualport_type"),
    Binding("target_dev", "target/@dev", "text", "host-side device name", rule="device_name", nic=Flag("target", "DEV", "host-side name")),
    Binding("model", "model/@type", "text", "model (virtio, e1000 …)", rule="nic_model", nic=Flag("model", "M", "model")),
)
INTERFACE_IDENTITY = "mac"

# Inside each <disk> but the image's; identity: the target device. ``source`` is the attribute
# of <source> that the disk's type uses (SOURCE_ATTRIBUTE).
DISK_FIELDS: tuple[Binding, ...] = (
    Binding("type", "@type", "text", "type (file, block, network, volume …)", rule="disk_type", default="file", nullable=False),
    Binding("device", "@device", "text", "device (disk, cdrom, floppy, lun)", rule="disk_device", default="disk", nullable=False),
    Binding("source", "source/@file|@dev|@dir|@name|@volume", "disk-source", "source", rule="disk_source"),
    Binding("pool", "source/@pool", "text", "storage pool (type volume)", rule="disk_setting"),
    Binding("protocol", "source/@protocol", "text", "protocol (type network)", rule="disk_setting"),
    Binding("target_dev", "target/@dev", "text", "target device", rule="disk_setting"),
    Binding("bus", "target/@bus", "text", "bus", rule="disk_setting"),
)
DISK_IDENTITY = "target_dev"
SOURCE_ATTRIBUTE = {"file": "file", "block": "dev", "dir": "dir", "network": "name", "volume": "volume", "nvme": None, "vhostuser": None}

# Every DomainSpec field, in the model's order (``xml show``'s, model_dump's). The rows with a node
# of their own are DOMAIN_FIELDS, in the order `apply` writes them (the domain type first: the
# image's and init's writers depend on whether it is a container); a group's row (kernel_boot)
# stands where the model has it, its fields' rows where they are written.
DOMAIN_ROWS: tuple[Binding, ...] = (
    Binding("hypervisor", "@type", "lower", "hypervisor (libvirt's domain type): kvm, qemu, lxc, test …", rule="hypervisor_of", kind=Hypervisor, default=REQUIRED, nullable=False, step="hypervisor", flag=Flag("--hypervisor", "H", "kvm, qemu, lxc or test (the demo driver)", required=True)),
    Binding("name", "name", "text", "name", rule="domain_name", default=REQUIRED, nullable=False, step="identity", flag=Flag("--name", "N", "unique name: letters, digits, _ . - (at most 64); with --preset, the preset's")),
    Binding("id", "metadata/rfconsole:vm/@id", "rfconsole-id", "rfconsole's id (unique in XML/)", rule="rfconsole_id", kind=int, clearable=True, step="identity", flag=Flag("--id", "I", "unique positive integer; default: the preset's if free, else the next free id")),
    Binding("arch", "os/type/@arch", "text", "architecture (i686, x86_64, aarch64 …)", rule="arch_of", kind=Arch, default=Arch.X86_64, clearable=True, step="os", flag=Flag("--arch", "A", "an architecture libvirt knows: i686, x86_64, aarch64, ppc64le … (default x86_64)")),
    Binding("os_type", "os/type", "text", "OS type (hvm, exe …)", rule="os_type_of", kind=OSType, step="os", flag=Flag("--os-type", "T", "hvm (kvm, qemu, test) or exe (lxc); default: what the hypervisor needs")),
    Binding("vcpu", "vcpu", "int", "vCPUs", rule="vcpu_count", kind=int, default=1, nullable=False, step="resources", flag=Flag("--vcpu", "C", "number of virtual CPUs (default 1)")),
    Binding("memory", "memory", "memory-mib", "memory in MiB", rule="memory_mib", kind=int, default=512, step="resources", flag=Flag("--memory", "MIB", "memory in MiB (default 512)")),
    Binding("image", "devices/disk[@device='disk'][@type='file']/source/@file | devices/filesystem[target/@dir='/']/source/@dir|@file", "root-storage", "image: disk image file, or an LXC root folder", rule="image_path", kind=Path, clearable=True, step="storage", flag=Flag("--image", "PATH", "disk image file, or for lxc an image file or a root-filesystem folder; relative paths are taken from the current directory")),
    Binding("image_kind", "", label="image kind: file, or folder (an LXC root)", rule="image_kind_of", kind=ImageKind, settable=False),
    Binding("interfaces", "", label="network interfaces", rule="as_tuple", kind=INTERFACE_FIELDS, default=(), nullable=False, settable=False),
    Binding("disks", "", label="disks other than the image", rule="as_tuple", kind=DISK_FIELDS, default=(), nullable=False, settable=False),
    Binding("kernel_boot", "", label="direct kernel boot", kind=GROUP, settable=False),
    Binding("init", "os/init", "text", "init program (LXC)", rule="init_program", clearable=True, step="os", flag=Flag("--init", "PATH", "lxc: the program to start in the container (default /sbin/init)")),
    Binding("kernel_boot.kernel", "os/kernel", "text", "kernel (direct kernel boot)", rule="kernel_path", kind=Path, default=REQUIRED, nullable=False, clearable=True, step="os", flag=Flag("--kernel", "K", "direct kernel boot: kernel file on the host")),
    Binding("kernel_boot.initrd", "os/initrd", "text", "initrd (direct kernel boot)", rule="initrd_path", kind=Path, clearable=True, step="os", flag=Flag("--initrd", "I", "direct kernel boot: initrd file on the host")),
    Binding("kernel_boot.cmdline", "os/cmdline", "raw", "kernel command line", rule="kernel_cmdline", clearable=True, step="os", flag=Flag("--cmdline", "C", "direct kernel boot: kernel command line")),
)


def bindings(rows: tuple[Binding, ...]) -> tuple[Binding, ...]:
    """The rows with a node of their own in the XML, in the table's order."""
    return tuple(row for row in rows if row.path)


def group_rows(rows: tuple[Binding, ...], group: str) -> tuple[Binding, ...]:
    """The rows of the fields of ``group`` (a GROUP row's key), in the table's order; the first is
    the one that makes the group (kernel_boot's kernel)."""
    return tuple(row for row in rows if row.key.startswith(group + "."))


def set_keys(rows: tuple[Binding, ...]) -> tuple[str, ...]:
    return tuple(binding.set_key for binding in bindings(rows) if binding.settable)


def clearable_keys(rows: tuple[Binding, ...]) -> tuple[str, ...]:
    return tuple(binding.set_key for binding in bindings(rows) if binding.clearable)


DOMAIN_FIELDS: tuple[Binding, ...] = bindings(DOMAIN_ROWS)
SET_KEYS: tuple[str, ...] = set_keys(DOMAIN_ROWS)
CLEARABLE_KEYS: tuple[str, ...] = clearable_keys(DOMAIN_ROWS)


def binding_for(set_key: str) -> Binding:
    return next(binding for binding in DOMAIN_FIELDS if binding.set_key == set_key)


def fields_of_step(step: str) -> tuple[str, ...]:
    """The DomainSpec fields (top level) the console wizard's ``step`` asks for, in table order."""
    return tuple(dict.fromkeys(binding.key.split(".")[0] for binding in DOMAIN_FIELDS if binding.step == step))
