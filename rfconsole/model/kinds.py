"""The model's vocabulary: libvirt's domain types, architectures and OS types, rfconsole's limits,
and which host files a VM needs. No pydantic here: what only reads documents, states and
capabilities (status, redeploy's checks, the event loop) imports this, not the spec models.
"""

from __future__ import annotations

import os
import re
from enum import Enum
from typing import Any

from rfconsole.model.errors import Problem
from rfconsole.model.text import file_kind, path_type_words


class Hypervisor(str, Enum):
    """libvirt's domain types (domain.rng's "hvs"). rfconsole runs the first four (``managed``);
    the others are read and shown, and edited in files, but never defined or started by it."""

    KVM = "kvm"
    QEMU = "qemu"
    LXC = "lxc"
    TEST = "test"  # libvirt's in-process test driver: the demo and the fast tests
    XEN = "xen"
    KQEMU = "kqemu"
    UML = "uml"
    OPENVZ = "openvz"
    VMWARE = "vmware"
    HYPERV = "hyperv"
    VBOX = "vbox"
    PHYP = "phyp"
    VZ = "vz"
    BHYVE = "bhyve"
    HVF = "hvf"

    @property
    def is_container(self) -> bool:
        return self in (Hypervisor.LXC, Hypervisor.OPENVZ)

    @property
    def managed(self) -> bool:
        """One of the hypervisors rfconsole creates and runs domains for."""
        return self in MANAGED_HYPERVISORS

    def __str__(self) -> str:
        return self.value


class Arch(str, Enum):
    """Every architecture libvirt knows (virArch); a host offers some of them (its capabilities)."""

    I686 = "i686"
    X86_64 = "x86_64"
    AARCH64 = "aarch64"
    ALPHA = "alpha"
    ARMV6L = "armv6l"
    ARMV7L = "armv7l"
    ARMV7B = "armv7b"
    CRIS = "cris"
    LM32 = "lm32"
    LOONGARCH64 = "loongarch64"
    M68K = "m68k"
    MICROBLAZE = "microblaze"
    MICROBLAZEEL = "microblazeel"
    MIPS = "mips"
    MIPSEL = "mipsel"
    MIPS64 = "mips64"
    MIPS64EL = "mips64el"
    OPENRISC = "openrisc"
    PARISC = "parisc"
    PARISC64 = "parisc64"
    PPC = "ppc"
    PPCLE = "ppcle"
    PPC64 = "ppc64"
    PPC64LE = "ppc64le"
    PPCEMB = "ppcemb"
    RISCV32 = "riscv32"
    RISCV64 = "riscv64"
    S390 = "s390"
    S390X = "s390x"
    SH4 = "sh4"
    SH4EB = "sh4eb"
    SPARC = "sparc"
    SPARC64 = "sparc64"
    UNICORE32 = "unicore32"
    XTENSA = "xtensa"
    XTENSAEB = "xtensaeb"

    def __str__(self) -> str:
        return self.value


class OSType(str, Enum):
    HVM = "hvm"  # full virtualisation: KVM, QEMU (and the test driver)
    LINUX = "linux"  # Xen paravirtual guests: none of rfconsole's hypervisors runs these
    EXE = "exe"  # containers: LXC
    XEN = "xen"  # Xen paravirtual guests, the newer word
    XENPVH = "xenpvh"  # Xen PVH guests
    UML = "uml"  # User Mode Linux

    def __str__(self) -> str:
        return self.value


class ImageKind(str, Enum):
    FILE = "file"  # a disk image file (KVM/QEMU disk, or an LXC root mounted through a loop device)
    FOLDER = "folder"  # an LXC root-filesystem folder

    def __str__(self) -> str:
        return self.value


MANAGED_HYPERVISORS = (Hypervisor.KVM, Hypervisor.QEMU, Hypervisor.LXC, Hypervisor.TEST)
OS_TYPE_FOR = {hypervisor: OSType.HVM for hypervisor in Hypervisor} | {
    Hypervisor.LXC: OSType.EXE,
    Hypervisor.OPENVZ: OSType.EXE,
    Hypervisor.UML: OSType.UML,
}
INTERFACE_TYPES = (
    "bridge network user ethernet direct hostdev mcast server client udp vhostuser vdpa "
    "internal null vds"
).split()
CREATED_INTERFACE_TYPES = ("bridge", "network")  # what rfconsole itself writes
VIRTUALPORT_TYPES = ("openvswitch", "802.1Qbg", "802.1Qbh", "midonet")
DISK_TYPES = ("file", "block", "network", "volume", "dir", "nvme", "vhostuser")
DISK_DEVICES = ("disk", "cdrom", "floppy", "lun")
LENIENT = {"lenient": True}  # the validation context of DomainSpec.read: libvirt's rules only
DEFAULT_LXC_INIT = "/sbin/init"
NAME_MAX = 64
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
NAME_RULE = f"use letters, digits, '_', '.' and '-' only, starting with a letter or digit, at most {NAME_MAX} characters"
MAC_RE = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}")
DEVICE_NAME_MAX = 15  # the kernel's IFNAMSIZ - 1
ID_MAX = 2**31 - 1
VCPU_MAX = 4096
MEMORY_MAX_MIB = 16 * 1024 * 1024  # 16 TiB
NETWORK_NAME_RE = re.compile(r"[^/\s]+")


def missing_paths(image: Any, image_kind: ImageKind | None, kernel: Any = None, initrd: Any = None) -> list[Problem]:
    """Host files a VM needs that are not there, or not the right kind (``unusable_paths``), from
    its paths: the image (``image_kind`` None: a folder if one is there, else a file), the kernel
    and initrd of a direct kernel boot. Only absolute paths are looked at: libvirt resolves
    nothing relative."""
    problems = []
    if image is not None and os.path.isabs(str(image)) and file_kind(str(image)) is None:
        what = "root-filesystem folder" if image_kind is ImageKind.FOLDER else "image file"
        problems.append(Problem("image", image, f"this {what} does not exist"))
    for field, path in (("kernel", kernel), ("initrd", initrd)):
        if path is not None and os.path.isabs(str(path)) and file_kind(str(path)) is None:
            problems.append(Problem(f"kernel_boot.{field}", path, f"this {field} file does not exist"))
    return problems + unusable_paths(image, image_kind, kernel, initrd)


def unusable_paths(image: Any, image_kind: ImageKind | None, kernel: Any = None, initrd: Any = None) -> list[Problem]:
    """The paths of ``missing_paths`` where something is, but not what the VM needs: a FIFO or a
    device (/dev/zero) for an image, kernel or initrd, a folder for a file or a file for a
    folder. Unlike a missing file (made later), a VM can never use these: writing them is refused."""
    problems = []
    if image is not None and os.path.isabs(str(image)):
        found = file_kind(str(image))
        if image_kind is ImageKind.FOLDER and found not in (None, "folder"):
            problems.append(Problem("image", image, f"this is {path_type_words(str(image))}, not a root-filesystem folder"))
        elif found == "other":
            problems.append(Problem("image", image, f"this is {path_type_words(str(image))}, not an image file (a regular file) or a folder"))
        elif found == "folder" and image_kind is ImageKind.FILE:
            problems.append(Problem("image", image, "this is a folder, but the VM expects an image file here"))
    for field, path in (("kernel", kernel), ("initrd", initrd)):
        if path is not None and os.path.isabs(str(path)) and file_kind(str(path)) not in (None, "file"):
            problems.append(Problem(f"kernel_boot.{field}", path, f"this is {path_type_words(str(path))}, not {'an' if field == 'initrd' else 'a'} {field} file (a regular file)"))
    return problems
