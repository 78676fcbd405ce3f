"""DomainSpec: every setting rfconsole models of a VM, with the rules that bind them.

Construction validates; a refusal is an ``InvalidSpec`` listing ``Problem(field, value, message)``
in plain words (never pydantic's raw text). Specs are frozen: change one with ``with_changes``.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from rfconsole.model.errors import InvalidSpec, Problem
from rfconsole.model.text import check_path, check_text, file_kind


class Hypervisor(str, Enum):
    KVM = "kvm"
    QEMU = "qemu"
    LXC = "lxc"
    TEST = "test"  # libvirt's in-process test driver: the demo and the fast tests

    @property
    def is_container(self) -> bool:
        return self is Hypervisor.LXC

    def __str__(self) -> str:
        return self.value


class Arch(str, Enum):
    I686 = "i686"
    X86_64 = "x86_64"

    def __str__(self) -> str:
        return self.value


class OSType(str, Enum):
    HVM = "hvm"  # full virtualisation: KVM, QEMU (and the test driver)
    LINUX = "linux"  # Xen paravirtual guests: none of rfconsole's hypervisors runs these
    EXE = "exe"  # containers: LXC

    def __str__(self) -> str:
        return self.value


class ImageKind(str, Enum):
    FILE = "file"  # a disk image file (KVM/QEMU disk, or an LXC root mounted through a loop device)
    FOLDER = "folder"  # an LXC root-filesystem folder

    def __str__(self) -> str:
        return self.value


OS_TYPE_FOR = {
    Hypervisor.KVM: OSType.HVM,
    Hypervisor.QEMU: OSType.HVM,
    Hypervisor.TEST: OSType.HVM,
    Hypervisor.LXC: OSType.EXE,
}
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


def _enum_words(enum: type[Enum]) -> str:
    values = [member.value for member in enum]
    return ", ".join(values[:-1]) + " or " + values[-1]


def _lenient_enum(enum: type[Enum], value: Any, what: str) -> Any:
    if isinstance(value, str) and not isinstance(value, Enum):
        lowered = value.strip().lower()
        for member in enum:
            if member.value == lowered:
                return member
        raise ValueError(f"{what} must be {_enum_words(enum)}")
    return value


def _absolute_path(value: Any, what: str, file: bool = True) -> str:
    """The path's text if it is one libvirt can use; pydantic then makes it a Path."""
    text = check_path(value, what)
    if not text.strip():
        raise ValueError(f"{what} must not be empty")
    if text != text.strip():
        raise ValueError(f"{what} must not begin or end with a space")
    if not text.startswith("/"):
        raise ValueError(f"{what} must be an absolute path (starting with '/'): libvirt resolves nothing relative")
    if file and text.strip("/") == "":
        raise ValueError(f"{what} must name a file, not the root folder '/'")
    return text


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise invalid_spec_from(error) from None

    # Tell pydantic this __init__ only wraps its own, so nested models are still validated by
    # pydantic's core (keeping error locations like interfaces.0.mac) rather than through here.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **options: Any):  # type: ignore[override]
        try:
            return super().model_validate(obj, **options)
        except ValidationError as error:
            raise invalid_spec_from(error) from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes, **options: Any):  # type: ignore[override]
        try:
            return super().model_validate_json(json_data, **options)
        except ValidationError as error:
            raise invalid_spec_from(error) from None

    def with_changes(self, **changes: Any):
        """A new, validated copy with ``changes`` applied (raises InvalidSpec)."""
        data = {name: getattr(self, name) for name in type(self).model_fields}
        data.update(changes)
        return type(self)(**data)


class Interface(_Model):
    """A network interface: on a host bridge (optionally an Open vSwitch one) or a libvirt network."""

    mac: str | None = None
    bridge: str | None = None
    network: str | None = None
    virtualport: str | None = None  # 'openvswitch' for an Open vSwitch bridge
    target_dev: str | None = None  # the host-side device name, e.g. rfvmA.1
    model: str | None = None  # e.g. virtio; None leaves the choice to libvirt

    @field_validator("mac", mode="before")
    @classmethod
    def _mac(cls, value: Any) -> Any:
        if value is None:
            return None
        text = str(value).strip()
        if not MAC_RE.fullmatch(text):
            raise ValueError("a MAC address is six two-digit hex numbers separated by ':', e.g. 02:a0:a0:a0:a0:a0")
        if int(text[:2], 16) & 1:
            raise ValueError("a multicast MAC address (odd first byte) cannot name one interface: use a unicast one, e.g. 02:…")
        return text.lower()

    @field_validator("bridge", "network", "target_dev", mode="before")
    @classmethod
    def _device_name(cls, value: Any) -> Any:
        if value is None:
            return None
        text = check_text(value, "a device name")
        if not text or len(text) > DEVICE_NAME_MAX or not NETWORK_NAME_RE.fullmatch(text):
            raise ValueError(f"a device name has 1 to {DEVICE_NAME_MAX} characters, with no '/' and no spaces")
        return text

    @field_validator("virtualport", mode="before")
    @classmethod
    def _virtualport(cls, value: Any) -> Any:
        if value is None or value == "openvswitch":
            return value
        raise ValueError("rfconsole knows the virtual port type 'openvswitch' only (or none)")

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, value: Any) -> Any:
        if value is None:
            return None
        text = str(value)
        if not re.fullmatch(r"[A-Za-z0-9_.,+-]{1,64}", text):
            raise ValueError("a NIC model is a word such as virtio, e1000 or rtl8139")
        return text

    @model_validator(mode="after")
    def _one_source(self) -> Interface:
        if (self.bridge is None) == (self.network is None):
            raise ValueError("an interface needs exactly one of a bridge (e.g. dp0) or a libvirt network (e.g. default)")
        if self.network is not None and self.virtualport is not None:
            raise ValueError("an Open vSwitch virtual port needs a bridge, not a libvirt network")
        return self


class KernelBoot(_Model):
    """Direct kernel boot: the guest starts from a kernel (and initrd) on the host."""

    kernel: Path
    initrd: Path | None = None
    cmdline: str | None = None

    @field_validator("kernel", mode="before")
    @classmethod
    def _kernel(cls, value: Any) -> str:
        return _absolute_path(value, "the kernel")

    @field_validator("initrd", mode="before")
    @classmethod
    def _initrd(cls, value: Any) -> str | None:
        return None if value is None else _absolute_path(value, "the initrd")

    @field_validator("cmdline", mode="before")
    @classmethod
    def _cmdline(cls, value: Any) -> Any:
        if value is None:
            return None
        text = check_text(value, "the kernel command line")
        return text if text.strip() else None


class DomainSpec(_Model):
    """One VM as rfconsole models it. Memory is in MiB (2^20 bytes)."""

    hypervisor: Hypervisor
    name: str
    id: int | None = None  # rfconsole's own id, unique in the XML/ folder; None = not assigned yet
    arch: Arch | None = Arch.X86_64  # None: left to libvirt (the host's)
    os_type: OSType | None = None  # None: the one the hypervisor needs
    vcpu: int = 1
    memory: int = 512  # MiB
    image: Path | None = None
    image_kind: ImageKind | None = None  # None: a folder if one exists at the path, else a file
    interfaces: tuple[Interface, ...] = ()
    kernel_boot: KernelBoot | None = None
    init: str | None = None  # LXC only; default /sbin/init

    @field_validator("hypervisor", mode="before")
    @classmethod
    def _hypervisor(cls, value: Any) -> Any:
        return _lenient_enum(Hypervisor, value, "the hypervisor")

    @field_validator("arch", mode="before")
    @classmethod
    def _arch(cls, value: Any) -> Any:
        return _lenient_enum(Arch, value, "the architecture")

    @field_validator("os_type", mode="before")
    @classmethod
    def _os_type(cls, value: Any) -> Any:
        return _lenient_enum(OSType, value, "the OS type")

    @field_validator("image_kind", mode="before")
    @classmethod
    def _image_kind(cls, value: Any) -> Any:
        return _lenient_enum(ImageKind, value, "the image kind")

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> str:
        text = str(value) if value is not None else ""
        if not text:
            raise ValueError("a VM needs a name")
        if len(text) > NAME_MAX or not NAME_RE.fullmatch(text):
            raise ValueError(f"this name is not allowed: {NAME_RULE}")
        return text

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        if value is None:
            return None
        number = _whole_number(value, "the id")
        if not 1 <= number <= ID_MAX:
            raise ValueError(f"the id must be a whole number from 1 to {ID_MAX}")
        return number

    @field_validator("vcpu", mode="before")
    @classmethod
    def _vcpu(cls, value: Any) -> int:
        number = _whole_number(value, "the number of vCPUs")
        if not 1 <= number <= VCPU_MAX:
            raise ValueError(f"the number of vCPUs must be from 1 to {VCPU_MAX}")
        return number

    @field_validator("memory", mode="before")
    @classmethod
    def _memory(cls, value: Any) -> int:
        number = _whole_number(value, "the memory")
        if not 1 <= number <= MEMORY_MAX_MIB:
            raise ValueError(f"the memory is in MiB and must be from 1 to {MEMORY_MAX_MIB} (16 TiB)")
        return number

    @field_validator("image", mode="before")
    @classmethod
    def _image(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        return _absolute_path(value, "the image", file=False)

    @field_validator("init", mode="before")
    @classmethod
    def _init(cls, value: Any) -> Any:
        if value is None:
            return None
        text = check_path(value, "the init program")
        if not PurePosixPath(text).is_absolute() or text.strip("/") == "" or text != text.strip():
            raise ValueError("the init program must be an absolute path inside the container, e.g. /sbin/init")
        return text

    @field_validator("interfaces", mode="before")
    @classmethod
    def _interfaces(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        try:
            hypervisor = _lenient_enum(Hypervisor, data.get("hypervisor"), "the hypervisor")
        except ValueError:
            return data
        if not isinstance(hypervisor, Hypervisor):
            return data
        if data.get("os_type") is None:
            data["os_type"] = OS_TYPE_FOR[hypervisor]
        if hypervisor is Hypervisor.LXC and data.get("init") is None:
            data["init"] = DEFAULT_LXC_INIT
        image = data.get("image")
        if image not in (None, "") and data.get("image_kind") is None:
            data["image_kind"] = ImageKind.FOLDER if file_kind(str(image)) == "folder" else ImageKind.FILE
        if image in (None, ""):
            data["image_kind"] = None
        return data

    @model_validator(mode="after")
    def _rules(self) -> DomainSpec:
        problems: list[Problem] = []
        needed = OS_TYPE_FOR[self.hypervisor]
        if self.os_type is not needed:
            problems.append(
                Problem(
                    "os_type",
                    self.os_type,
                    f"hypervisor {self.hypervisor} needs OS type {needed}"
                    + (" (linux is for Xen paravirtual guests)" if self.os_type is OSType.LINUX else ""),
                )
            )
        if self.hypervisor.is_container:
            if self.kernel_boot is not None:
                problems.append(Problem("kernel_boot", self.kernel_boot.kernel, "an LXC container runs on the host's kernel: it cannot boot a kernel of its own"))
        else:
            if self.init is not None:
                problems.append(Problem("init", self.init, f"an init program is for LXC containers; a {self.hypervisor} VM boots from its disk or a kernel"))
            if self.image_kind is ImageKind.FOLDER:
                problems.append(Problem("image", self.image, f"a {self.hypervisor} VM needs a disk image file, not a folder (folders are LXC root filesystems)"))
            if self.image is None and self.kernel_boot is None and self.hypervisor is not Hypervisor.TEST:
                problems.append(Problem("image", None, f"a {self.hypervisor} VM needs an image to boot from, or a kernel for direct kernel boot"))
        if self.image is not None and self.image_kind is ImageKind.FILE and str(self.image).strip("/") == "":
            problems.append(Problem("image", self.image, "an image file cannot be the root folder '/'"))
        if problems:
            raise InvalidSpec(problems)
        return self

    @property
    def os_type_needed(self) -> OSType:
        return OS_TYPE_FOR[self.hypervisor]


def _whole_number(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"[+]?[0-9]{1,12}", text):
        return int(text)
    raise ValueError(f"{what} must be a whole number")


_PYDANTIC_WORDS = {
    "missing": "is required",
    "extra_forbidden": "is not a setting rfconsole knows",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "string_type": "must be text",
    "path_type": "must be a path",
    "model_type": "has the wrong shape",
    "tuple_type": "must be a list",
    "enum": "is not one of the allowed values",
}


def invalid_spec_from(error: ValidationError) -> InvalidSpec:
    """Turn pydantic's report into our plain-words problems."""
    problems = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "settings"
        context = item.get("ctx") or {}
        if item["type"] == "value_error" and "error" in context:
            message = str(context["error"])
        elif item["type"] == "enum" and "expected" in context:
            message = f"must be {context['expected']}"
        else:
            message = _PYDANTIC_WORDS.get(item["type"], "is not allowed here")
        value = item.get("input")
        if isinstance(value, (dict, list, tuple)) or item["type"] == "missing":
            value = None
        problems.append(Problem(field, value, message))
    return InvalidSpec(problems)


def missing_files(spec: DomainSpec) -> list[Problem]:
    """Host files the VM needs that are not there (or not the right kind). Not an error when
    writing XML (images often come later); the virt layer refuses to start a VM with any."""
    problems = []
    if spec.image is not None:
        found = file_kind(spec.image)
        if spec.image_kind is ImageKind.FOLDER:
            if found != "folder":
                problems.append(Problem("image", spec.image, "this root-filesystem folder does not exist"))
        elif found is None:
            problems.append(Problem("image", spec.image, "this image file does not exist"))
        elif found == "folder":
            problems.append(Problem("image", spec.image, "this is a folder, but the VM expects an image file here"))
    if spec.kernel_boot is not None:
        for field, path in (("kernel", spec.kernel_boot.kernel), ("initrd", spec.kernel_boot.initrd)):
            if path is not None and file_kind(path) != "file":
                problems.append(Problem(f"kernel_boot.{field}", path, f"this {field} file does not exist"))
    return problems
