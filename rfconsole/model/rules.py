"""The model's rules as plain functions, without pydantic, and the one engine that runs them:
each field's rule, each model's rules across fields, and the tables of which field has which rule
(its default, what its value becomes), derived from the field table (model/fields.py: a row names
its rule here).

``validated(table, data, lenient, build)`` is the only validation there is. Both readers of
settings run it, so each rule exists once and runs in one place:

- the pydantic models (spec.py) validate nothing themselves: their constructors run the engine
  and make the frozen models of what it checked (``build``): what builds and edits specs (xml
  new/set, the wizard, the presets);
- ``lenient_settings`` and ``house_rule_problems_of``: a document's settings under libvirt's rules
  and the rfconsole rules they break, as plain dicts (``PLAIN``), without importing pydantic
  (``xml show``, ``xml validate``: docs/performance.md, "Start-up"). They give what
  ``DomainSpec.read(values).model_dump()`` and ``house_rule_problems()`` give.

The engine decides every shape and type itself, in the words pydantic's errors were given before
it (``is required``, ``has the wrong shape``, ``must be a list``, ``must be 'kvm', …`` …), and
takes what pydantic's lax mode took: an enum's member or its exact text (or UTF-8 bytes), any
iterable but text, bytes or a mapping as a list, any mapping as a model, a model of the table as
itself. ``tests/unit/model/test_rules.py`` holds the tables against the models and both readers
against each other over libvirt's corpus and generated settings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from rfconsole.model import fields
from rfconsole.model.errors import InvalidSpec, Problem
from rfconsole.model.fields import GROUP, REQUIRED, Binding, group_rows
from rfconsole.model.kinds import (
    CREATED_INTERFACE_TYPES,
    DEFAULT_LXC_INIT,
    DEVICE_NAME_MAX,
    DISK_DEVICES,
    DISK_TYPES,
    ID_MAX,
    INTERFACE_TYPES,
    MAC_RE,
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
from rfconsole.model.text import check_path, check_text, domain_name_problem, file_kind


# ----------------------------------------------------------------------------- shared rules
def enum_words(enum: type[Enum]) -> str:
    values = [member.value for member in enum]
    return ", ".join(values[:-1]) + " or " + values[-1]


def lenient_enum(enum: type[Enum], value: Any, what: str) -> Any:
    if isinstance(value, str) and not isinstance(value, Enum):
        lowered = value.strip().lower()
        for member in enum:
            if member.value == lowered:
                return member
        raise ValueError(f"{what} must be {enum_words(enum)}")
    return value


def absolute_path(value: Any, what: str, file: bool = True) -> str:
    """The path's text if it is one libvirt can use; the model then makes it a Path."""
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


def text_or_none(value: Any, what: str) -> str | None:
    """libvirt's rule for a free text field: characters XML holds, not empty."""
    if value is None:
        return None
    text = check_text(value, what)
    if not text:
        raise ValueError(f"{what} must not be empty")
    return text


def one_of(value: Any, choices: Sequence[str], what: str, default: str | None = None) -> str | None:
    """``value`` as one of libvirt's ``choices`` (``default`` when absent), or a refusal listing them."""
    if value is None:
        return default
    text = str(value).strip()
    if text not in choices:
        raise ValueError(f"libvirt's {what} are {', '.join(choices)}")
    return text


def any_path(value: Any, what: str) -> str:
    """libvirt's rule for a path it reads from a domain: any path the kernel accepts, not empty."""
    text = check_path(value, what)
    if not text.strip():
        raise ValueError(f"{what} must not be empty")
    return text


def whole_number(value: Any, what: str, out_of_range: str) -> int:
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


# ----------------------------------------------------------------------------- an interface
def interface_defaults(data: Any) -> Any:
    """An interface without a type is a bridge when it names a bridge, else a network when it names one."""
    if isinstance(data, dict) and data.get("type") is None:
        data = dict(data)
        data["type"] = "bridge" if data.get("bridge") is not None else "network" if data.get("network") is not None else None
    return data


def interface_type(value: Any, lenient: bool) -> Any:
    return one_of(value, INTERFACE_TYPES, "interface types")


def mac_address(value: Any, lenient: bool) -> Any:
    if value is None:
        return None
    text = check_text(value, "a MAC address").strip()
    if not MAC_RE.fullmatch(text):
        raise ValueError("a MAC address is six two-digit hex numbers separated by ':', e.g. 02:a0:a0:a0:a0:a0")
    if int(text[:2], 16) & 1:
        raise ValueError("a multicast MAC address (odd first byte) cannot name one interface: use a unicast one, e.g. 02:…")
    return text.lower()


def device_name(value: Any, lenient: bool) -> Any:
    if value is None:
        return None
    text = check_text(value, "a device name")
    if lenient:
        return text_or_none(text, "a device name")
    if not text or len(text) > DEVICE_NAME_MAX or not NETWORK_NAME_RE.fullmatch(text):
        raise ValueError(f"a host device name has 1 to {DEVICE_NAME_MAX} characters, with no '/' and no spaces")
    return text


def network_name(value: Any, lenient: bool) -> Any:
    if value is None:
        return None
    text = check_text(value, "a network name")
    if not text or "/" in text:
        raise ValueError("a libvirt network name is not empty and has no '/'")
    return text


def virtualport_type(value: Any, lenient: bool) -> Any:
    if value is None or value in VIRTUALPORT_TYPES:
        return value
    raise ValueError(f"libvirt's virtual port types are {', '.join(VIRTUALPORT_TYPES)}")


def nic_model(value: Any, lenient: bool) -> Any:
    if value is None:
        return None
    text = check_text(value, "a NIC model")
    if lenient:
        return text_or_none(text, "a NIC model")
    if not re.fullmatch(r"[A-Za-z0-9_.,+-]{1,64}", text):
        raise ValueError("a NIC model is a word such as virtio, e1000 or rtl8139")
    return text


def interface_sources(interface: Mapping[str, Any], lenient: bool) -> None:
    """rfconsole's rule for an interface it writes: on exactly one bridge or libvirt network."""
    if lenient:
        return
    kind, bridge, network = interface["type"], interface["bridge"], interface["network"]
    if kind not in CREATED_INTERFACE_TYPES or (bridge is None) == (network is None):
        raise ValueError("an interface rfconsole writes needs exactly one of a bridge (e.g. dp0) or a libvirt network (e.g. default)")
    if kind == "bridge" and bridge is None or kind == "network" and network is None:
        raise ValueError(f"an interface of type {kind} needs a {kind}")


# ----------------------------------------------------------------------------- a disk
def disk_type(value: Any, lenient: bool) -> Any:
    return one_of(value, DISK_TYPES, "disk types", default="file")


def disk_device(value: Any, lenient: bool) -> Any:
    return one_of(value, DISK_DEVICES, "disk devices", default="disk")


def disk_source(value: Any, lenient: bool) -> Any:
    return None if value is None else any_path(value, "a disk's source")


def disk_setting(value: Any, lenient: bool) -> Any:
    return text_or_none(value, "a disk setting")


# ----------------------------------------------------------------------------- direct kernel boot
def kernel_path(value: Any, lenient: bool) -> str:
    return any_path(value, "the kernel") if lenient else absolute_path(value, "the kernel")


def initrd_path(value: Any, lenient: bool) -> str | None:
    if value is None:
        return None
    return any_path(value, "the initrd") if lenient else absolute_path(value, "the initrd")


def kernel_cmdline(value: Any, lenient: bool) -> Any:
    if value is None:
        return None
    text = check_text(value, "the kernel command line")
    return text if text.strip() else None


# ----------------------------------------------------------------------------- the domain
def hypervisor_of(value: Any, lenient: bool) -> Any:
    if lenient:
        return lenient_enum(Hypervisor, value, "the domain type")
    try:
        hypervisor = lenient_enum(Hypervisor, value, "the hypervisor")
    except ValueError:
        hypervisor = None
    if isinstance(hypervisor, Hypervisor) and not hypervisor.managed or hypervisor is None:
        raise ValueError("the hypervisor must be kvm, qemu, lxc or test (the ones rfconsole runs)")
    return hypervisor


def arch_of(value: Any, lenient: bool) -> Any:
    try:
        return lenient_enum(Arch, value, "the architecture")
    except ValueError:
        raise ValueError("the architecture must be one libvirt knows: i686, x86_64, aarch64, armv7l, ppc64le, s390x, riscv64 …") from None


def os_type_of(value: Any, lenient: bool) -> Any:
    return lenient_enum(OSType, value, "the OS type")


def image_kind_of(value: Any, lenient: bool) -> Any:
    return lenient_enum(ImageKind, value, "the image kind")


def domain_name(value: Any, lenient: bool) -> str:
    text = "" if value is None else str(value)
    problem = domain_name_problem(text)
    if problem is not None:
        raise ValueError(problem)
    if lenient:
        return text  # libvirt's rule only
    if len(text) > NAME_MAX or not NAME_RE.fullmatch(text):
        raise ValueError(f"this name is not allowed: {NAME_RULE}")
    return text


def rfconsole_id(value: Any, lenient: bool) -> Any:
    if value is None:
        return None
    out_of_range = f"the id must be a whole number from 1 to {ID_MAX}"
    number = whole_number(value, "the id", out_of_range)
    if not 1 <= number <= ID_MAX:
        raise ValueError(out_of_range)
    return number


def vcpu_count(value: Any, lenient: bool) -> int:
    limit = 2**32 - 1 if lenient else VCPU_MAX
    out_of_range = f"the number of vCPUs must be from 1 to {limit}"
    number = whole_number(value, "the number of vCPUs", out_of_range)
    if not 1 <= number <= limit:
        raise ValueError(out_of_range)
    return number


def memory_mib(value: Any, lenient: bool) -> int | None:
    if lenient:
        if value is None:
            return None
        number = whole_number(value, "the memory", "the memory is too large to be a libvirt size")
        if number < 0:
            raise ValueError("the memory cannot be negative")
        return number
    if value is None:
        raise ValueError("a VM rfconsole writes says its memory")
    out_of_range = f"the memory is in MiB and must be from 1 to {MEMORY_MAX_MIB} (16 TiB)"
    number = whole_number(value, "the memory", out_of_range)
    if not 1 <= number <= MEMORY_MAX_MIB:
        raise ValueError(out_of_range)
    return number


def image_path(value: Any, lenient: bool) -> str | None:
    if value is None or value == "":
        return None
    if lenient:
        return any_path(value, "the image")
    return absolute_path(value, "the image", file=False)


def init_program(value: Any, lenient: bool) -> Any:
    if value is None:
        return None
    text = check_path(value, "the init program")
    if lenient:
        return any_path(text, "the init program")
    if not PurePosixPath(text).is_absolute() or text.strip("/") == "" or text != text.strip():
        raise ValueError("the init program must be an absolute path inside the container, e.g. /sbin/init")
    return text


def as_tuple(value: Any, lenient: bool) -> Any:
    return tuple(value) if isinstance(value, list) else value


def domain_defaults(data: Any, lenient: bool) -> Any:
    """What a domain's settings leave out and the others decide: the OS type the hypervisor needs,
    LXC's init (not when reading: a document without <init> is read as it is), the image's kind."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    try:
        hypervisor = lenient_enum(Hypervisor, data.get("hypervisor"), "the hypervisor")
    except ValueError:
        return data
    if not isinstance(hypervisor, Hypervisor):
        return data
    if data.get("os_type") is None:
        data["os_type"] = OS_TYPE_FOR[hypervisor]
    if hypervisor is Hypervisor.LXC and data.get("init") is None and not lenient:
        data["init"] = DEFAULT_LXC_INIT
    image = data.get("image")
    if image not in (None, "") and data.get("image_kind") is None:
        data["image_kind"] = ImageKind.FOLDER if file_kind(str(image)) == "folder" else ImageKind.FILE
    if image in (None, ""):
        data["image_kind"] = None
    return data


def domain_problems(domain: Mapping[str, Any], kernel: Any, lenient: bool) -> list[Problem]:
    """The rules across a domain's fields (``kernel``: its direct boot's kernel, None without)."""
    problems: list[Problem] = []
    hypervisor, os_type, image, image_kind = domain["hypervisor"], domain["os_type"], domain["image"], domain["image_kind"]
    has_kernel_boot = domain["kernel_boot"] is not None
    # libvirt's own (its schema has no <kernel> in a container's <os type='exe'>, no <init> in a VM's):
    container = os_type is OSType.EXE or (hypervisor.is_container and not lenient)
    if container and has_kernel_boot:
        problems.append(Problem("kernel_boot", kernel, "an LXC container runs on the host's kernel: it cannot boot a kernel of its own"))
    if not container and domain["init"] is not None:
        problems.append(Problem("init", domain["init"], f"an init program is for LXC containers; a {hypervisor} VM boots from its disk or a kernel"))
    if lenient:
        return problems  # rfconsole's own rules are house rules
    seen: dict[str, int] = {}
    for position, nic in enumerate(domain["interfaces"], start=1):
        mac = nic.get("mac") if isinstance(nic, Mapping) else nic.mac
        if mac is None:
            continue
        if mac.lower() in seen:  # libvirt takes it, and the guest's network then breaks
            problems.append(Problem("interfaces", mac, f"NIC {position} has the MAC of NIC {seen[mac.lower()]}: each NIC of a VM needs its own MAC"))
        seen.setdefault(mac.lower(), position)
    needed = OS_TYPE_FOR[hypervisor]
    if os_type is not needed:
        problems.append(
            Problem(
                "os_type",
                os_type,
                f"hypervisor {hypervisor} needs OS type {needed}" + (" (linux is for Xen paravirtual guests)" if os_type is OSType.LINUX else ""),
            )
        )
    if not hypervisor.is_container:
        if image_kind is ImageKind.FOLDER:
            problems.append(Problem("image", image, f"a {hypervisor} VM needs a disk image file, not a folder (folders are LXC root filesystems)"))
        if image is None and not has_kernel_boot and hypervisor is not Hypervisor.TEST and not domain["disks"]:
            problems.append(Problem("image", None, f"a {hypervisor} VM needs an image to boot from, or a kernel for direct kernel boot"))
    if image is not None and image_kind is ImageKind.FILE and str(image).strip("/") == "":
        problems.append(Problem("image", image, "an image file cannot be the root folder '/'"))
    return problems


# ----------------------------------------------------------------------------- the tables
@dataclass(frozen=True)
class FieldRule:
    """One field of a model: its rule (raw value and whether reading leniently -> its value, or
    ValueError in words), what the value becomes (``kind``), whether None is allowed, its default."""

    name: str
    rule: Callable[[Any, bool], Any] | None
    kind: Any  # str, int, Path, an Enum class, or a model's FieldRule table (one, or ``many`` in a tuple)
    nullable: bool = True
    default: Any = None
    many: bool = False


@functools.cache
def rule_table(rows: tuple[Binding, ...]) -> tuple[FieldRule, ...]:
    """The FieldRule table of a model whose fields are the top-level ``rows`` of the field table
    (model/fields.py): each row's rule (named there, a function of this module), kind, default.
    A GROUP row's kind is the table of its fields' rows, a row of rows the table of those (the
    same rows give the same table object)."""
    table = []
    for row in rows:
        if "." in row.key:
            continue  # a group's field: in the group's table
        kind = row.kind
        if kind is GROUP:
            kind = group_table(rows, row.key)
        elif row.many:
            kind = rule_table(kind)
        table.append(FieldRule(row.key, _rule_named(row), kind, row.nullable, row.default, row.many))
    return tuple(table)


def _rule_named(row: Binding) -> Callable[[Any, bool], Any] | None:
    if not row.rule:
        return None
    rule = globals().get(row.rule)
    if not callable(rule):
        raise LookupError(f"the field table's row {row.key!r} names the rule {row.rule!r}, which model/rules.py does not define")
    return rule


def group_table(rows: tuple[Binding, ...], group: str) -> tuple[FieldRule, ...]:
    """The FieldRule table of GROUP row ``group``'s model (its fields: the rows ``group.field``)."""
    return rule_table(tuple(replace(row, key=row.set_key) for row in group_rows(rows, group)))


INTERFACE_RULES: tuple[FieldRule, ...] = rule_table(fields.INTERFACE_FIELDS)
DISK_RULES: tuple[FieldRule, ...] = rule_table(fields.DISK_FIELDS)
KERNEL_BOOT_RULES: tuple[FieldRule, ...] = group_table(fields.DOMAIN_ROWS, "kernel_boot")
DOMAIN_RULES: tuple[FieldRule, ...] = rule_table(fields.DOMAIN_ROWS)


# ----------------------------------------------------------------------------- the engine
class Builder(Protocol):
    """What the engine makes of a model's checked fields. The light reading (``PLAIN``) keeps them
    as a dict; spec.py makes its frozen pydantic models of them, bottom-up."""

    def made(self, table: tuple[FieldRule, ...], value: Any) -> bool:
        """Whether ``value`` is already a model of ``table`` (kept as it is: its fields are not
        checked again, its rules across fields are)."""
        ...

    def make(self, table: tuple[FieldRule, ...], values: dict[str, Any], given: set[str]) -> Any:
        """The model of ``table`` holding ``values`` (every field; ``given``: those the input named)."""
        ...


class _Plain:
    def made(self, table: tuple[FieldRule, ...], value: Any) -> bool:
        return False

    def make(self, table: tuple[FieldRule, ...], values: dict[str, Any], given: set[str]) -> dict[str, Any]:
        return values


PLAIN: Builder = _Plain()


def validated(table: tuple[FieldRule, ...], data: Any, lenient: bool, build: Builder = PLAIN) -> Any:
    """``data`` (a model's settings by field, or a model ``build`` made) under the rules of
    ``table`` and its models' rules across fields, as ``build`` makes it; raises InvalidSpec with
    every problem in field order (each field's own rule, then what its value must be: a whole
    number, text, a path, one of an enum's values, a list, a mapping of known fields); the rules
    across a model's fields only when its fields passed. ``lenient``: libvirt's rules only."""
    problems: list[Problem] = []
    result = _model(table, data, lenient, (), problems, build)
    if problems:
        raise InvalidSpec(problems)
    return result


def lenient_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """A document's settings (``DomainDocument.values()``) under libvirt's rules only: what
    ``DomainSpec.read(values).model_dump()`` gives (raises InvalidSpec)."""
    settings: dict[str, Any] = validated(DOMAIN_RULES, values, lenient=True)
    return settings


def house_rule_problems_of(settings: Mapping[str, Any]) -> list[Problem]:
    """rfconsole's own rules that ``settings`` (as ``lenient_settings`` gives them) break: what
    ``DomainSpec.house_rule_problems()`` says of the same spec."""
    try:
        validated(DOMAIN_RULES, dict(settings), lenient=False)
    except InvalidSpec as invalid:
        return invalid.problems
    return []


def settings_json(settings: Any) -> Any:
    """``settings`` as JSON takes them (``model_dump(mode="json")``): paths and enums as text, tuples as lists."""
    if isinstance(settings, Mapping):
        return {key: settings_json(value) for key, value in settings.items()}
    if isinstance(settings, (tuple, list)):
        return [settings_json(value) for value in settings]
    if isinstance(settings, Enum):
        return settings.value
    if isinstance(settings, PurePosixPath):
        return str(settings)
    return settings


def settings_missing_files(settings: Mapping[str, Any]) -> list[Problem]:
    """Host files the VM of ``settings`` needs that are not there (or not the right kind):
    ``kinds.missing_paths`` of its image, kernel and initrd (spec.missing_files of a spec)."""
    boot = settings["kernel_boot"]
    return missing_paths(settings["image"], settings["image_kind"], boot["kernel"] if boot else None, boot["initrd"] if boot else None)


def _model(table: tuple[FieldRule, ...], data: Any, lenient: bool, where: tuple, problems: list[Problem], build: Builder) -> Any:
    """One model of ``table`` from ``data``: its defaults, each field's rule then its kind, every
    problem collected in field order (then the unknown keys, in the input's order); the rules
    across its fields when all passed. None when it has a problem."""
    if build.made(table, data):
        return data if _across(table, dict(data), data, lenient, where, problems) else None
    data = _defaults(table, data, lenient)
    if not isinstance(data, Mapping):
        problems.append(Problem(_where(*where), _shown(data), "has the wrong shape"))
        return None
    before = len(problems)
    names = {field.name for field in table}
    values: dict[str, Any] = {}
    for field in table:
        if field.name not in data:
            if field.default is REQUIRED:
                problems.append(Problem(_where(*where, field.name), None, "is required"))
            values[field.name] = field.default
            continue
        raw = data[field.name]
        try:
            value = field.rule(raw, lenient) if field.rule is not None else raw
        except ValueError as error:
            problems.append(Problem(_where(*where, field.name), _shown(raw), str(error)))
            continue
        values[field.name] = _kind(field, value, lenient, (*where, field.name), problems, build)
    for key, value in data.items():
        if not isinstance(key, str):
            problems.append(Problem(_where(*where, key), _shown(key), "is not allowed here"))
        elif key not in names:
            problems.append(Problem(_where(*where, key), _shown(value), "is not a setting rfconsole knows"))
    if len(problems) > before or not _across(table, values, data, lenient, where, problems):
        return None
    return build.make(table, values, {key for key in data if key in names})


def _defaults(table: tuple[FieldRule, ...], data: Any, lenient: bool) -> Any:
    """What a model's settings leave out and its other fields decide (on any input: a value that
    is not a dict is left as it is)."""
    if table is INTERFACE_RULES:
        return interface_defaults(data)
    if table is DOMAIN_RULES:
        return domain_defaults(data, lenient)
    return data


def _across(table: tuple[FieldRule, ...], values: Mapping[str, Any], data: Any, lenient: bool, where: tuple, problems: list[Problem]) -> bool:
    """The rules across the fields of a model of ``table`` (``values``: its fields, checked): an
    interface's sources (a problem of the interface), the domain's rules (raised: InvalidSpec)."""
    if table is INTERFACE_RULES:
        try:
            interface_sources(values, lenient)
        except ValueError as error:
            problems.append(Problem(_where(*where), _shown(data), str(error)))
            return False
    elif table is DOMAIN_RULES:
        boot = values["kernel_boot"]
        kernel = None if boot is None else boot["kernel"] if isinstance(boot, Mapping) else boot.kernel
        found = domain_problems(values, kernel, lenient)
        if found:
            raise InvalidSpec(found)
    return True


def _kind(field: FieldRule, value: Any, lenient: bool, where: tuple, problems: list[Problem], build: Builder) -> Any:
    """``value`` (what ``field``'s rule gave) as what the field holds, or a problem (None)."""
    kind = field.kind
    if value is None and field.nullable:
        return None
    if isinstance(kind, tuple):
        if not field.many:
            return _model(kind, value, lenient, where, problems, build)
        if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
            problems.append(Problem(_where(*where), _shown(value), "must be a list"))
            return None
        return tuple(_model(kind, item, lenient, (*where, index), problems, build) for index, item in enumerate(value))
    if isinstance(kind, type) and issubclass(kind, Enum):
        member = _member(kind, value)
        if member is None:
            problems.append(Problem(_where(*where), _shown(value), f"must be {_expected(kind)}"))
        return member
    if kind is Path:
        if isinstance(value, (str, Path)):
            return Path(value)
        problems.append(Problem(_where(*where), _shown(value), "must be a path"))
        return None
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        problems.append(Problem(_where(*where), _shown(value), "must be a whole number"))
        return None
    if isinstance(value, str):
        return str.__str__(value)  # an enum's member of text: its text
    if isinstance(value, (bytes, bytearray)):
        try:
            return value.decode()
        except UnicodeDecodeError:
            pass
    problems.append(Problem(_where(*where), _shown(value), "must be text"))
    return None


def _member(kind: type[Enum], value: Any) -> Any:
    """The member of ``kind`` that ``value`` is or names exactly (text, or UTF-8 bytes), else None."""
    if isinstance(value, kind):
        return value
    if isinstance(value, (bytes, bytearray)):
        try:
            value = value.decode()
        except UnicodeDecodeError:
            return None
    if isinstance(value, str):
        for member in kind:
            if member.value == value:
                return member
    return None


@functools.cache
def _expected(kind: type[Enum]) -> str:
    values = [repr(member.value) for member in kind]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


def _shown(value: Any) -> Any:
    """The value a problem quotes: none for a mapping or a list (too long to quote)."""
    return None if isinstance(value, (dict, list, tuple)) else value


def _where(*parts: Any) -> str:
    return ".".join(str(part) for part in parts) or "settings"
