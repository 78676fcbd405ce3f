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

The rules themselves are plain functions in model/rules.py, which the validators here call by
field: what only reads and shows a document (``xml show``, ``xml validate``) uses the same rules
without pydantic (``DomainDocument.settings()``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from rfconsole.model import (
    rules,  # each field's rule and the rules across fields, without pydantic
)
from rfconsole.model.errors import InvalidSpec, Problem
from rfconsole.model.kinds import (  # re-exported: rfconsole.model.spec.Hypervisor … as before
    CREATED_INTERFACE_TYPES,
    DEFAULT_LXC_INIT,
    DEVICE_NAME_MAX,
    DISK_DEVICES,
    DISK_TYPES,
    ID_MAX,
    INTERFACE_TYPES,
    LENIENT,
    MAC_RE,
    MANAGED_HYPERVISORS,
    MEMORY_MAX_MIB,
    NAME_MAX,
    NAME_RE,
    NAME_RULE,
    NETWORK_NAME_RE,
    OS_TYPE_FOR,
    VCPU_MAX,
    VIRTUALPORT_TYPES,
    Arch,
    Hypervisor,
    ImageKind,
    OSType,
    missing_paths,
)


def _is_lenient(info: ValidationInfo | None) -> bool:
    return bool(info is not None and info.context and info.context.get("lenient"))


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
    def model_validate(cls, obj: Any, **options: Any):
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
        return rules.interface_defaults(data)

    @field_validator("*", mode="before")
    @classmethod
    def _field(cls, value: Any, info: ValidationInfo) -> Any:
        return rules.field_rule(rules.INTERFACE_RULES, info.field_name or "", value, _is_lenient(info))

    @model_validator(mode="after")
    def _sources(self, info: ValidationInfo) -> Interface:
        rules.interface_sources(dict(self), _is_lenient(info))
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

    @field_validator("*", mode="before")
    @classmethod
    def _field(cls, value: Any, info: ValidationInfo) -> Any:
        return rules.field_rule(rules.DISK_RULES, info.field_name or "", value, _is_lenient(info))


class KernelBoot(_Model):
    """Direct kernel boot: the guest starts from a kernel (and initrd) on the host."""

    kernel: Path
    initrd: Path | None = None
    cmdline: str | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _field(cls, value: Any, info: ValidationInfo) -> Any:
        return rules.field_rule(rules.KERNEL_BOOT_RULES, info.field_name or "", value, _is_lenient(info))


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

    @field_validator("*", mode="before")
    @classmethod
    def _field(cls, value: Any, info: ValidationInfo) -> Any:
        return rules.field_rule(rules.DOMAIN_RULES, info.field_name or "", value, _is_lenient(info))

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any, info: ValidationInfo) -> Any:
        return rules.domain_defaults(data, _is_lenient(info))

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> DomainSpec:
        problems = rules.domain_problems(dict(self), self.kernel_boot.kernel if self.kernel_boot else None, _is_lenient(info))
        if problems:
            raise InvalidSpec(problems)
        return self


def house_rule_problems(spec: DomainSpec) -> list[Problem]:
    """rfconsole's own rules that ``spec`` breaks (see DomainSpec.house_rule_problems)."""
    return spec.house_rule_problems()


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
    return rules.settings_missing_files(spec.model_dump())
