"""Where each modelled field lives in a domain XML: the one table read, write, element order, the
CLI's ``xml set`` keys and the wizard's fields come from (virtinst's XMLProperty idea, as data).

A ``Binding`` names a DomainSpec field, the path of its node below ``<domain>`` (XPath's
``a/b`` for an element's text, ``a/b/@attr`` for an attribute) and its converter: how the node's
text becomes the field's value and back. Most fields are handled by the generic code in
domainxml.py from the path alone; a converter other than "text"/"int" names a rule that needs
more than one node (memory and its ``<currentMemory>``, the id in rfconsole's mark, the image
found among the disks or filesystems) and is implemented there once.

Each interface and each disk is a view bound to its own element, found by its identity (a NIC's
MAC, a disk's target device), never by position, so what rfconsole does not model inside it
(<address>, <driver>, filterref …) stays with it whatever happens to its neighbours.

Plain data only: the command line's parsers read the ``xml set`` keys from here, and must not
import pydantic or lxml (tests/unit/test_startup.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flag:
    """A field's option of ``xml new`` (its dest is argparse's: --os-type -> os_type)."""

    name: str  # --vcpu
    metavar: str
    help: str
    required: bool = False
    path: bool = False  # a host path: taken from the current directory, ~ expanded

    @property
    def dest(self) -> str:
        return self.name.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Binding:
    key: str  # the DomainSpec field ("kernel_boot.kernel" for a nested one); its last part is the `xml set` key
    path: str  # below <domain>: "vcpu" (text), "os/type/@arch" (attribute), "@type" (<domain>'s own attribute)
    converter: str = "text"  # text, int, lower, memory-mib, rfconsole-id, root-storage, mac
    label: str = ""  # in words, for `xml set --help`, `xml show` and the wizard
    clearable: bool = False  # `xml set KEY=` removes the setting
    settable: bool = True  # a key of `xml set`
    step: str = ""  # the console wizard's step that asks for it (and shows its problems)
    flag: Flag | None = None  # its option of `xml new`
    nic_key: str = ""  # an interface's: its KEY=VALUE in `xml new --nic`

    @property
    def set_key(self) -> str:
        return self.key.rsplit(".", 1)[-1]


# In the order `xml show` lists them and `apply` writes them (the domain type first: the image's
# and init's writers depend on whether it is a container).
DOMAIN_FIELDS: tuple[Binding, ...] = (
    Binding("hypervisor", "@type", "lower", "hypervisor (libvirt's domain type): kvm, qemu, lxc, test …", step="hypervisor", flag=Flag("--hypervisor", "H", "kvm, qemu, lxc or test (the demo driver)", required=True)),
    Binding("name", "name", "text", "name", step="identity", flag=Flag("--name", "N", "unique name: letters, digits, _ . - (at most 64); with --preset, the preset's")),
    Binding("id", "metadata/rfconsole:vm/@id", "rfconsole-id", "rfconsole's id (unique in XML/)", clearable=True, step="identity", flag=Flag("--id", "I", "unique positive integer; default: the preset's if free, else the next free id")),
    Binding("arch", "os/type/@arch", "text", "architecture (i686, x86_64, aarch64 …)", clearable=True, step="os", flag=Flag("--arch", "A", "an architecture libvirt knows: i686, x86_64, aarch64, ppc64le … (default x86_64)")),
    Binding("os_type", "os/type", "text", "OS type (hvm, exe …)", step="os", flag=Flag("--os-type", "T", "hvm (kvm, qemu, test) or exe (lxc); default: what the hypervisor needs")),
    Binding("vcpu", "vcpu", "int", "vCPUs", step="resources", flag=Flag("--vcpu", "C", "number of virtual CPUs (default 1)")),
    Binding("memory", "memory", "memory-mib", "memory in MiB", step="resources", flag=Flag("--memory", "MIB", "memory in MiB (default 512)")),
    Binding("image", "devices/disk[@device='disk'][@type='file']/source/@file | devices/filesystem[target/@dir='/']/source/@dir|@file", "root-storage", "image: disk image file, or an LXC root folder", clearable=True, step="storage", flag=Flag("--image", "PATH", "disk image file, or for lxc an image file or a root-filesystem folder; relative paths are taken from the current directory", path=True)),
    Binding("init", "os/init", "text", "init program (LXC)", clearable=True, step="os", flag=Flag("--init", "PATH", "lxc: the program to start in the container (default /sbin/init)")),
    Binding("kernel_boot.kernel", "os/kernel", "text", "kernel (direct kernel boot)", clearable=True, step="os", flag=Flag("--kernel", "K", "direct kernel boot: kernel file on the host", path=True)),
    Binding("kernel_boot.initrd", "os/initrd", "text", "initrd (direct kernel boot)", clearable=True, step="os", flag=Flag("--initrd", "I", "direct kernel boot: initrd file on the host", path=True)),
    Binding("kernel_boot.cmdline", "os/cmdline", "raw", "kernel command line", clearable=True, step="os", flag=Flag("--cmdline", "C", "direct kernel boot: kernel command line")),
)

# Inside each <interface>; identity: the MAC.
INTERFACE_FIELDS: tuple[Binding, ...] = (
    Binding("type", "@type", "text", "type (bridge, network, user, direct …)"),
    Binding("mac", "mac/@address", "mac", "MAC address", nic_key="mac"),
    Binding("bridge", "source/@bridge", "text", "host bridge", nic_key="bridge"),
    Binding("network", "source/@network", "text", "libvirt network", nic_key="network"),
    Binding("source_dev", "source/@dev", "text", "host device"),
    Binding("virtualport", "virtualport/@type", "text", "virtual port type (openvswitch …)"),
    Binding("target_dev", "target/@dev", "text", "host-side device name", nic_key="target"),
    Binding("model", "model/@type", "text", "model (virtio, e1000 …)", nic_key="model"),
)
INTERFACE_IDENTITY = "mac"

# Inside each <disk> but the image's; identity: the target device. ``source`` is the attribute
# of <source> that the disk's type uses (SOURCE_ATTRIBUTE).
DISK_FIELDS: tuple[Binding, ...] = (
    Binding("type", "@type", "text", "type (file, block, network, volume …)"),
    Binding("device", "@device", "text", "device (disk, cdrom, floppy, lun)"),
    Binding("source", "source/@file|@dev|@dir|@name|@volume", "disk-source", "source"),
    Binding("pool", "source/@pool", "text", "storage pool (type volume)"),
    Binding("protocol", "source/@protocol", "text", "protocol (type network)"),
    Binding("target_dev", "target/@dev", "text", "target device"),
    Binding("bus", "target/@bus", "text", "bus"),
)
DISK_IDENTITY = "target_dev"
SOURCE_ATTRIBUTE = {"file": "file", "block": "dev", "dir": "dir", "network": "name", "volume": "volume", "nvme": None, "vhostuser": None}

SET_KEYS: tuple[str, ...] = tuple(binding.set_key for binding in DOMAIN_FIELDS if binding.settable)
CLEARABLE_KEYS: tuple[str, ...] = tuple(binding.set_key for binding in DOMAIN_FIELDS if binding.clearable)


def binding_for(set_key: str) -> Binding:
    return next(binding for binding in DOMAIN_FIELDS if binding.set_key == set_key)


def fields_of_step(step: str) -> tuple[str, ...]:
    """The DomainSpec fields (top level) the console wizard's ``step`` asks for, in table order."""
    return tuple(dict.fromkeys(binding.key.split(".")[0] for binding in DOMAIN_FIELDS if binding.step == step))
