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
``create_model``: annotation, default and validator per row). The rules themselves are plain
functions in model/rules.py, which each field's validator calls: what only reads and shows a
document (``xml show``, ``xml validate``) uses the same rules without pydantic
(``DomainDocument.settings()``). Here: what every model shares (``_Model``) and the hooks of
the rules across fields.
"""

from __future__ import annotations

from pathlib import Path
from types import GenericAlias
from typing import TYPE_CHECKING, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    create_model,
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

    if TYPE_CHECKING:  # the fields are the field table's (model/fields.py), built at import

        def __getattr__(self, name: str) -> Any: ...

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


# The rules across fields, each model's (the fields' own rules are the table's, in rules.py).
def _default_type(cls: type[_Model], data: Any) -> Any:
    return rules.interface_defaults(data)


def _sources(self: _Model, info: ValidationInfo) -> Any:
    rules.interface_sources(dict(self), _is_lenient(info))
    return self


def _defaults(cls: type[_Model], data: Any, info: ValidationInfo) -> Any:
    return rules.domain_defaults(data, _is_lenient(info))


def _rules(self: _Model, info: ValidationInfo) -> Any:
    boot = dict(self)["kernel_boot"]
    problems = rules.domain_problems(dict(self), boot.kernel if boot else None, _is_lenient(info))
    if problems:
        raise InvalidSpec(problems)
    return self


def model_of(name: str, doc: str, table: tuple[rules.FieldRule, ...], nested: dict[int, type[_Model]], **validators: Any) -> type[_Model]:
    """The pydantic model ``name`` with the fields of ``table`` (rules.py's, from the field table),
    each validated by its rule, and ``validators`` (the rules across its fields); ``nested``: the
    models built so far, by their table's id (a table kind's model)."""
    definitions: dict[str, Any] = {}
    for field in table:
        kind = field.kind
        if isinstance(kind, tuple):
            kind = GenericAlias(tuple, (nested[id(kind)], ...)) if field.many else nested[id(kind)]  # tuple[Interface, ...]
        annotation = kind | None if field.nullable else kind
        definitions[field.name] = (annotation, ... if field.default is rules.REQUIRED else field.default)
    by_name = {field.name: field for field in table}

    def check(cls: type[_Model], value: Any, info: ValidationInfo) -> Any:
        return rules.apply_rule(by_name[info.field_name or ""], value, _is_lenient(info))

    model = create_model(
        name,
        __base__=_Model,
        __module__=__name__,
        __doc__=doc,
        __validators__={"_field": field_validator("*", mode="before")(check), **validators},
        **definitions,
    )
    nested[id(table)] = model
    return model


def models(interface: tuple[rules.FieldRule, ...], disk: tuple[rules.FieldRule, ...], kernel_boot: tuple[rules.FieldRule, ...], domain: tuple[rules.FieldRule, ...]) -> tuple[Any, Any, Any, Any]:
    """Interface, Disk, KernelBoot and DomainSpec from rules.py's tables (the field table's rows)."""
    nested: dict[int, type[_Model]] = {}
    return (
        model_of(
            "Interface",
            "A network interface of any of libvirt's types, identified by its MAC. rfconsole creates\n"
            "interfaces on a host bridge (optionally an Open vSwitch one) or on a libvirt network.",
            interface,
            nested,
            _default_type=model_validator(mode="before")(_default_type),
            _sources=model_validator(mode="after")(_sources),
        ),
        model_of("Disk", "A disk other than the VM's image, identified by its target device (vdb, hdc, sda …).", disk, nested),
        model_of("KernelBoot", "Direct kernel boot: the guest starts from a kernel (and initrd) on the host.", kernel_boot, nested),
        model_of(
            "DomainSpec",
            "One VM as rfconsole models it. Memory is in MiB (2^20 bytes); None: the document has no\n"
            "<memory> (libvirt then takes it from the NUMA cells).",
            domain,
            nested,
            _defaults=model_validator(mode="before")(_defaults),
            _rules=model_validator(mode="after")(_rules),
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
