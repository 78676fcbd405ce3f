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

The fields are not written here: each is a row of the field table (model/fields.py), and
``models`` builds the four models from rules.py's tables of those rows (pydantic's
``create_model``: annotation and default per row). pydantic is the domain model (frozen, typed,
model_dump and JSON) and validates nothing: every constructor runs rules.py's one engine
(``rules.validated``), the same that reads a document without pydantic (``xml show``, ``xml
validate``), and ``_Builder`` makes the frozen models of what it checked, bottom-up, with
``model_construct``. Here: what every model shares (``_Model``) and that builder.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import GenericAlias
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, create_model

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


class _Model(BaseModel):
    """What the four models share: frozen, no field but the table's, and no validation of
    pydantic's own: every constructor runs rules.py's engine (``rules.validated``), which makes
    the model and the models inside it with ``model_construct`` once everything passed."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)
    field_rules: ClassVar[tuple[rules.FieldRule, ...]] = ()  # the model's table (rules.py's)
    builder: ClassVar[rules.Builder]  # what makes this model and the ones inside it

    def __init__(self, **data: Any) -> None:
        built = type(self).model_validate(data)
        self.__setstate__(built.__getstate__())  # this instance takes what the engine made

    if TYPE_CHECKING:  # the fields are the field table's (model/fields.py), built at import

        def __getattr__(self, name: str) -> Any: ...

    @classmethod
    def model_validate(cls, obj: Any, **options: Any):
        """A model from ``obj`` (its settings by field, or a model); ``context=LENIENT``:
        libvirt's rules only. Raises InvalidSpec."""
        context = options.get("context")
        lenient = bool(context and context.get("lenient"))
        return rules.validated(cls.field_rules, obj, lenient, cls.builder)

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **options: Any):
        try:
            data = json.loads(json_data)
        except ValueError:
            raise InvalidSpec([Problem("settings", json_data, "is not allowed here")]) from None
        return cls.model_validate(data, **options)

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


class _Builder:
    """rules.Builder for one set of models (``models``' four): each table's model, made without
    pydantic's validation once the engine has checked its fields."""

    def __init__(self) -> None:
        self.model_of: dict[int, type[_Model]] = {}

    def made(self, table: tuple[rules.FieldRule, ...], value: Any) -> bool:
        return isinstance(value, self.model_of[id(table)])

    def make(self, table: tuple[rules.FieldRule, ...], values: dict[str, Any], given: set[str]) -> Any:
        return self.model_of[id(table)].model_construct(given, **values)


def model_of(name: str, doc: str, table: tuple[rules.FieldRule, ...], builder: _Builder) -> type[_Model]:
    """The pydantic model ``name`` with the fields of ``table`` (rules.py's, from the field table):
    their annotations and defaults (for the type checker, model_dump and the JSON schema; the
    engine validates); ``builder``: the models built so far, by their table's id (a table kind's)."""
    definitions: dict[str, Any] = {}
    for field in table:
        kind = field.kind
        if isinstance(kind, tuple):
            kind = GenericAlias(tuple, (builder.model_of[id(kind)], ...)) if field.many else builder.model_of[id(kind)]  # tuple[Interface, ...]
        annotation = kind | None if field.nullable else kind
        definitions[field.name] = (annotation, ... if field.default is rules.REQUIRED else field.default)
    model = create_model(name, __base__=_Model, __module__=__name__, __doc__=doc, **definitions)
    model.field_rules = table
    model.builder = builder
    builder.model_of[id(table)] = model
    return model


def models(interface: tuple[rules.FieldRule, ...], disk: tuple[rules.FieldRule, ...], kernel_boot: tuple[rules.FieldRule, ...], domain: tuple[rules.FieldRule, ...]) -> tuple[Any, Any, Any, Any]:
    """Interface, Disk, KernelBoot and DomainSpec from rules.py's tables (the field table's rows)."""
    builder = _Builder()
    return (
        model_of(
            "Interface",
            "A network interface of any of libvirt's types, identified by its MAC. rfconsole creates\n"
            "interfaces on a host bridge (optionally an Open vSwitch one) or on a libvirt network.",
            interface,
            builder,
        ),
        model_of("Disk", "A disk other than the VM's image, identified by its target device (vdb, hdc, sda …).", disk, builder),
        model_of("KernelBoot", "Direct kernel boot: the guest starts from a kernel (and initrd) on the host.", kernel_boot, builder),
        model_of(
            "DomainSpec",
            "One VM as rfconsole models it. Memory is in MiB (2^20 bytes); None: the document has no\n"
            "<memory> (libvirt then takes it from the NUMA cells).",
            domain,
            builder,
        ),
    )


if TYPE_CHECKING:  # what type checkers see: a model taking and holding any field (the table's)

    class Interface(_Model):
        def __init__(self, **data: Any) -> None: ...

    class Disk(_Model):
        def __init__(self, **data: Any) -> None: ...

    class KernelBoot(_Model):
        def __init__(self, **data: Any) -> None: ...

    class DomainSpec(_Model):
        def __init__(self, **data: Any) -> None: ...

else:
    Interface, Disk, KernelBoot, DomainSpec = models(rules.INTERFACE_RULES, rules.DISK_RULES, rules.KERNEL_BOOT_RULES, rules.DOMAIN_RULES)


def house_rule_problems(spec: DomainSpec) -> list[Problem]:
    """rfconsole's own rules that ``spec`` breaks (see DomainSpec.house_rule_problems)."""
    return spec.house_rule_problems()


def missing_files(spec: DomainSpec) -> list[Problem]:
    """Host files the VM needs that are not there (or not the right kind). Not an error when
    writing XML (images often come later); the virt layer refuses to start a VM with any."""
    return rules.settings_missing_files(spec.model_dump())
