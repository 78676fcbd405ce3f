"""DomainSpec: every setting rfconsole models of a VM, with the rules that bind them.

Construction validates; a refusal is an ``InvalidSpec`` listing ``Problem(field, value, message)``
in plain words (never pydantic's raw text). Specs are frozen: change one with ``with_changes``.

Two sets of rules (docs/user-guide.md, "Which rules are whose"):

- libvirt's: what libvirt itself accepts (its schema and its parser). Every spec obeys them.
  ``DomainSpec.read(values)`` (how a document is read) checks these only, so any domain libvirt
  accepts is read: Xen or bhyve domains, every arch, names such as ``foo=1,bar=2``, interfaces of
  any type, block or network disks, no ``<memory>``.
- rfconsole's own: what rfconsole creates (``xml new``, the wizard, the presets): a name that is
  also a file name, a hypervisor rfconsole runs, the OS type it needs, something to boot from,
  host device names of at most 15 characters. ``DomainSpec(...)`` checks both sets;
  ``house_rule_problems(spec)`` says which of its own rules a spec that was read breaks
  (warnings, not refusals).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator, model_validator

from rfconsole.model.errors import InvalidSpec, Problem
from rfconsole.model.kinds import (  # re-exported: rfconsole.model.spec.Hypervisor … as before
    Arch,
    CREATED_INTERFACE_TYPES,
    DEFAULT_LXC_INIT,
    DEVICE_NAME_MAX,
    DISK_DEVICES,
    DISK_TYPES,
    Hypervisor,
    ID_MAX,
    INTERFACE_TYPES,
    ImageKind,
    LENIENT,
    MAC_RE,
    MANAGED_HYPERVISORS,
    MEMORY_MAX_MIB,
    NAME_MAX,
    NAME_RE,
    NAME_RULE,
    NETWORK_NAME_RE,
    OSType,
    OS_TYPE_FOR,
    VCPU_MAX,
    VIRTUALPORT_TYPES,
    missing_paths,
)
from rfconsole.model.text import check_path, check_text, file_kind


def _enum_words(enum: type[Enum]) -> str:
    values = [member.value for member in enum]
    return ", ".join(values[:-1]) + " or " + values[-1]


def _is_lenient(info: ValidationInfo | None) -> bool:
    return bool(info is not None and info.context and info.context.get("lenient"))


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


def _text_or_none(value: Any, what: str) -> str | None:
    """libvirt's rule for a free text field: characters XML holds, not empty."""
    if value is None:
        return None
    text = check_text(value, what)
    if not text:
        raise ValueError(f"{what} must not be empty")
    return text


def _one_of(value: Any, choices: Sequence[str], what: str, default: str | None = None) -> str | None:
    """``value`` as one of libvirt's ``choices`` (``default`` when absent), or a refusal listing them."""
    if value is None:
        return default
    text = str(value).strip()
    if text not in choices:
        raise ValueError(f"libvirt's {what} are {', '.join(choices)}")
    return text


def _any_path(value: Any, what: str) -> str:
    """libvirt's rule for a path it reads from a domain: any path the kernel accepts, not empty."""
    text = check_path(value, what)
    if not text.strip():
        raise ValueError(f"{what} must not be empty")
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

    @classmethod
    def read(cls, values: dict[str, Any]):
        """A spec from what a document says, under libvirt's rules only (raises InvalidSpec)."""
        return cls.model_validate(values, context=LENIENT)

    def with_changes(self, lenient: bool = False, **changes: Any):
        """A new, validated copy with ``changes`` applied (raises InvalidSpec). A change may break
        none of rfconsole's own rules that the spec kept (a spec read from a document may already
        break some: those stay warnings); ``lenient``: libvirt's rules only."""
        data = self.model_dump()
        data.update(changes)
        if not lenient:
            try:
                return type(self)(**data)
            except InvalidSpec:
                pass
        changed = type(self).read(data)
        if not lenient:
            kept = {(problem.field, problem.message) for problem in self.house_rule_problems()}
            broken = [problem for problem in changed.house_rule_problems() if (problem.field, problem.message) not in kept]
            if broken:
                raise InvalidSpec(broken)
        return changed

    def house_rule_problems(self) -> list[Problem]:
        """rfconsole's own rules (for what it creates) that this spec breaks: warnings for a spec
        read from a document, since libvirt accepts it. Empty when rfconsole could have written it."""
        try:
            type(self)(**self.model_dump())
        except InvalidSpec as invalid:
            return invalid.problems
        return []


class Interface(_Model):
    """A network interface of any of libvirt's types, identified by its MAC. rfconsole creates
    interfaces on a host bridge (optionally an Open vSwitch one) or on a libvirt network."""

    type: str | None = None  # libvirt's interface type; None: bridge when a bridge is given, else network
    mac: str | None = None
    bridge: str | None = None
    network: str | None = None  # a libvirt network's name (not a host device: no 15-character limit)
    source_dev: str | None = None  # a host device the interface uses (type direct: macvtap on eth0)
    virtualport: str | None = None  # 'openvswitch' for an Open vSwitch bridge, or 802.1Qbg/802.1Qbh/midonet
    target_dev: str | None = None  # the host-side device name, e.g. rfvmA.1
    model: str | None = None  # e.g. virtio; None leaves the choice to libvirt

    @model_validator(mode="before")
    @classmethod
    def _default_type(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("type") is None:
            data = dict(data)
            data["type"] = "bridge" if data.get("bridge") is not None else "network" if data.get("network") is not None else None
        return data

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        return _one_of(value, INTERFACE_TYPES, "interface types")

    @field_validator("mac", mode="before")
    @classmethod
    def _mac(cls, value: Any) -> Any:
        if value is None:
            return None
        text = check_text(value, "a MAC address").strip()
        if not MAC_RE.fullmatch(text):
            raise ValueError("a MAC address is six two-digit hex numbers separated by ':', e.g. 02:a0:a0:a0:a0:a0")
        if int(text[:2], 16) & 1:
            raise ValueError("a multicast MAC address (odd first byte) cannot name one interface: use a unicast one, e.g. 02:…")
        return text.lower()

    @field_validator("bridge", "target_dev", "source_dev", mode="before")
    @classmethod
    def _device_name(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        text = check_text(value, "a device name")
        if _is_lenient(info):
            return _text_or_none(text, "a device name")
        if not text or len(text) > DEVICE_NAME_MAX or not NETWORK_NAME_RE.fullmatch(text):
            raise ValueError(f"a host device name has 1 to {DEVICE_NAME_MAX} characters, with no '/' and no spaces")
        return text

    @field_validator("network", mode="before")
    @classmethod
    def _network_name(cls, value: Any) -> Any:
        if value is None:
            return None
        text = check_text(value, "a network name")
        if not text or "/" in text:
            raise ValueError("a libvirt network name is not empty and has no '/'")
        return text

    @field_validator("virtualport", mode="before")
    @classmethod
    def _virtualport(cls, value: Any) -> Any:
        if value is None or value in VIRTUALPORT_TYPES:
            return value
        raise ValueError(f"libvirt's virtual port types are {', '.join(VIRTUALPORT_TYPES)}")

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        text = check_text(value, "a NIC model")
        if _is_lenient(info):
            return _text_or_none(text, "a NIC model")
        if not re.fullmatch(r"[A-Za-z0-9_.,+-]{1,64}", text):
            raise ValueError("a NIC model is a word such as virtio, e1000 or rtl8139")
        return text

    @model_validator(mode="after")
    def _sources(self, info: ValidationInfo) -> Interface:
        if _is_lenient(info):
            return self
        if self.type not in CREATED_INTERFACE_TYPES or (self.bridge is None) == (self.network is None):
            raise ValueError("an interface rfconsole writes needs exactly one of a bridge (e.g. dp0) or a libvirt network (e.g. default)")
        if self.type == "bridge" and self.bridge is None or self.type == "network" and self.network is None:
            raise ValueError(f"an interface of type {self.type} needs a {self.type}")
        return self


class Disk(_Model):
    """A disk other than the VM's image, identified by its target device (vdb, hdc, sda …)."""

    type: str = "file"  # file, block, network, volume, dir, nvme, vhostuser
    device: str = "disk"  # disk, cdrom, floppy, lun
    source: str | None = None  # the file, block device, folder, network name or volume; None: empty (a cdrom)
    pool: str | None = None  # type volume: the storage pool
    protocol: str | None = None  # type network: nbd, rbd, iscsi, http …
    target_dev: str | None = None
    bus: str | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        return _one_of(value, DISK_TYPES, "disk types", default="file")

    @field_validator("device", mode="before")
    @classmethod
    def _device(cls, value: Any) -> Any:
        return _one_of(value, DISK_DEVICES, "disk devices", default="disk")

    @field_validator("source", mode="before")
    @classmethod
    def _source(cls, value: Any) -> Any:
        return None if value is None else _any_path(value, "a disk's source")

    @field_validator("pool", "protocol", "target_dev", "bus", mode="before")
    @classmethod
    def _words(cls, value: Any) -> Any:
        return _text_or_none(value, "a disk setting")


class KernelBoot(_Model):
    """Direct kernel boot: the guest starts from a kernel (and initrd) on the host."""

    kernel: Path
    initrd: Path | None = None
    cmdline: str | None = None

    @field_validator("kernel", mode="before")
    @classmethod
    def _kernel(cls, value: Any, info: ValidationInfo) -> str:
        return _any_path(value, "the kernel") if _is_lenient(info) else _absolute_path(value, "the kernel")

    @field_validator("initrd", mode="before")
    @classmethod
    def _initrd(cls, value: Any, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        return _any_path(value, "the initrd") if _is_lenient(info) else _absolute_path(value, "the initrd")

    @field_validator("cmdline", mode="before")
    @classmethod
    def _cmdline(cls, value: Any) -> Any:
        if value is None:
            return None
        text = check_text(value, "the kernel command line")
        return text if text.strip() else None


class DomainSpec(_Model):
    """One VM as rfconsole models it. Memory is in MiB (2^20 bytes); None: the document has no
    <memory> (libvirt then takes it from the NUMA cells)."""

    hypervisor: Hypervisor
    name: str
    id: int | None = None  # rfconsole's own id, unique in the XML/ folder; None = not assigned yet
    arch: Arch | None = Arch.X86_64  # None: left to libvirt (the host's)
    os_type: OSType | None = None  # None: the one the hypervisor needs
    vcpu: int = 1
    memory: int | None = 512  # MiB
    image: Path | None = None
    image_kind: ImageKind | None = None  # None: a folder if one exists at the path, else a file
    interfaces: tuple[Interface, ...] = ()
    disks: tuple[Disk, ...] = ()  # every disk but the image's
    kernel_boot: KernelBoot | None = None
    init: str | None = None  # LXC only; default /sbin/init

    @field_validator("hypervisor", mode="before")
    @classmethod
    def _hypervisor(cls, value: Any, info: ValidationInfo) -> Any:
        if _is_lenient(info):
            return _lenient_enum(Hypervisor, value, "the domain type")
        try:
            hypervisor = _lenient_enum(Hypervisor, value, "the hypervisor")
        except ValueError:
            hypervisor = None
        if isinstance(hypervisor, Hypervisor) and not hypervisor.managed or hypervisor is None:
            raise ValueError("the hypervisor must be kvm, qemu, lxc or test (the ones rfconsole runs)")
        return hypervisor

    @field_validator("arch", mode="before")
    @classmethod
    def _arch(cls, value: Any) -> Any:
        try:
            return _lenient_enum(Arch, value, "the architecture")
        except ValueError:
            raise ValueError("the architecture must be one libvirt knows: i686, x86_64, aarch64, armv7l, ppc64le, s390x, riscv64 …") from None

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
    def _name(cls, value: Any, info: ValidationInfo) -> str:
        text = check_text(value, "the name") if value is not None else ""
        if not text:
            raise ValueError("a VM needs a name")
        if "/" in text:  # libvirt's rule too; and the name is a file name in XML/
            raise ValueError("a domain name cannot contain '/'")
        if _is_lenient(info):
            return text  # libvirt's rule: any one line of text without '/'

        if len(text) > NAME_MAX or not NAME_RE.fullmatch(text):
            raise ValueError(f"this name is not allowed: {NAME_RULE}")
        return text

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        if value is None:
            return None
        out_of_range = f"the id must be a whole number from 1 to {ID_MAX}"
        number = _whole_number(value, "the id", out_of_range)
        if not 1 <= number <= ID_MAX:
            raise ValueError(out_of_range)
        return number

    @field_validator("vcpu", mode="before")
    @classmethod
    def _vcpu(cls, value: Any, info: ValidationInfo) -> int:
        limit = 2**32 - 1 if _is_lenient(info) else VCPU_MAX
        out_of_range = f"the number of vCPUs must be from 1 to {limit}"
        number = _whole_number(value, "the number of vCPUs", out_of_range)
        if not 1 <= number <= limit:
            raise ValueError(out_of_range)
        return number

    @field_validator("memory", mode="before")
    @classmethod
    def _memory(cls, value: Any, info: ValidationInfo) -> int | None:
        if _is_lenient(info):
            if value is None:
                return None
            number = _whole_number(value, "the memory", "the memory is too large to be a libvirt size")
            if number < 0:
                raise ValueError("the memory cannot be negative")
            return number
        if value is None:
            raise ValueError("a VM rfconsole writes says its memory")
        out_of_range = f"the memory is in MiB and must be from 1 to {MEMORY_MAX_MIB} (16 TiB)"
        number = _whole_number(value, "the memory", out_of_range)
        if not 1 <= number <= MEMORY_MAX_MIB:
            raise ValueError(out_of_range)
        return number

    @field_validator("image", mode="before")
    @classmethod
    def _image(cls, value: Any, info: ValidationInfo) -> str | None:
        if value is None or value == "":
            return None
        if _is_lenient(info):
            return _any_path(value, "the image")
        return _absolute_path(value, "the image", file=False)

    @field_validator("init", mode="before")
    @classmethod
    def _init(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        text = check_path(value, "the init program")
        if _is_lenient(info):
            return _any_path(text, "the init program")
        if not PurePosixPath(text).is_absolute() or text.strip("/") == "" or text != text.strip():
            raise ValueError("the init program must be an absolute path inside the container, e.g. /sbin/init")
        return text

    @field_validator("interfaces", "disks", mode="before")
    @classmethod
    def _sequence(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any, info: ValidationInfo) -> Any:
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
        if hypervisor is Hypervisor.LXC and data.get("init") is None and not _is_lenient(info):
            data["init"] = DEFAULT_LXC_INIT  # a document without <init> is read as it is
        image = data.get("image")
        if image not in (None, "") and data.get("image_kind") is None:
            data["image_kind"] = ImageKind.FOLDER if file_kind(str(image)) == "folder" else ImageKind.FILE
        if image in (None, ""):
            data["image_kind"] = None
        return data

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> DomainSpec:
        problems: list[Problem] = []
        # libvirt's own (its schema has no <kernel> in a container's <os type='exe'>, no <init> in a VM's):
        container = self.os_type is OSType.EXE or (self.hypervisor.is_container and not _is_lenient(info))
        if container and self.kernel_boot is not None:
            problems.append(Problem("kernel_boot", self.kernel_boot.kernel, "an LXC container runs on the host's kernel: it cannot boot a kernel of its own"))
        if not container and self.init is not None:
            problems.append(Problem("init", self.init, f"an init program is for LXC containers; a {self.hypervisor} VM boots from its disk or a kernel"))
        if _is_lenient(info):
            if problems:
                raise InvalidSpec(problems)
            return self  # rfconsole's own rules are house_rule_problems'
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
        if not self.hypervisor.is_container:
            if self.image_kind is ImageKind.FOLDER:
                problems.append(Problem("image", self.image, f"a {self.hypervisor} VM needs a disk image file, not a folder (folders are LXC root filesystems)"))
            if self.image is None and self.kernel_boot is None and self.hypervisor is not Hypervisor.TEST and not self.disks:
                problems.append(Problem("image", None, f"a {self.hypervisor} VM needs an image to boot from, or a kernel for direct kernel boot"))
        if self.image is not None and self.image_kind is ImageKind.FILE and str(self.image).strip("/") == "":
            problems.append(Problem("image", self.image, "an image file cannot be the root folder '/'"))
        if problems:
            raise InvalidSpec(problems)
        return self

    @property
    def os_type_needed(self) -> OSType:
        return OS_TYPE_FOR[self.hypervisor]


def house_rule_problems(spec: DomainSpec) -> list[Problem]:
    """rfconsole's own rules that ``spec`` breaks (see DomainSpec.house_rule_problems)."""
    return spec.house_rule_problems()


def _whole_number(value: Any, what: str, out_of_range: str) -> int:
    """``value`` as an int; ``out_of_range`` is the message for digits too many to be in range
    (more than int() takes), so a too-large number is told its range, not "not a whole number"."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    digits = re.fullmatch(r"[+]?0*([0-9]+)", text)
    if digits is None:
        raise ValueError(f"{what} must be a whole number")
    if len(digits.group(1)) > _DIGITS_MAX:
        raise ValueError(out_of_range)
    return int(digits.group(1))


_DIGITS_MAX = 40  # far above every limit here, far below int()'s 4300-digit refusal


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
    boot = spec.kernel_boot
    return missing_paths(spec.image, spec.image_kind, boot.kernel if boot else None, boot.initrd if boot else None)
