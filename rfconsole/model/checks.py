"""The checks and edits both faces share: the CLI (`xml validate|set|new`) and the console (the
XML editor, the wizard) call these, so they judge a document the same way, in the same order.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rfconsole.errors import UsageError
from rfconsole.model import fields
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.errors import InvalidSpec, Problem, field_words
from rfconsole.model.rules import house_rule_problems_of, settings_missing_files
from rfconsole.model.schema import schema_problems

if TYPE_CHECKING:  # pydantic: imported where a spec is built (changed_spec), not to check a document
    from rfconsole.model.spec import DomainSpec

@dataclass
class DocumentCheck:
    """What is wrong with a document: ``errors`` where libvirt would refuse it (its schema, then
    the model's reading), ``warnings`` where only rfconsole's own rules or the host's files object
    (lenient readings, rules for what rfconsole creates, missing image or kernel files)."""

    settings: dict[str, Any] | None  # as DomainDocument.settings() reads them; None when refused
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_document(document: DomainDocument) -> DocumentCheck:
    """The one check of a document: libvirt's schema, then reading it as a spec, then rfconsole's
    own rules and the host's files as warnings."""
    errors = [str(problem) for problem in schema_problems(document)]
    settings = None
    try:
        settings = document.settings()
    except InvalidSpec as invalid:
        errors.extend(str(problem) for problem in invalid.problems)
    warnings = list(document.notes())
    if settings is not None:
        warnings.extend(f"rfconsole would not create this: {problem}" for problem in house_rule_problems_of(settings))
        warnings.extend(f"{field_words(problem.field)} {problem.value}: {problem.message}" for problem in settings_missing_files(settings))
    return DocumentCheck(settings, errors, warnings)


# ----------------------------------------------------------------------------- KEY=VALUE edits
def parse_changes(pairs: Iterable[str]) -> dict[str, str]:
    """``KEY=VALUE`` texts (the command line's) as a dict; keys are the binding table's."""
    changes: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not separator or not key:
            raise UsageError(f"{pair!r} is not KEY=VALUE", hint=f"keys: {', '.join(fields.SET_KEYS)}")
        if key not in fields.SET_KEYS:
            raise UsageError(f"{key!r} is not a setting `xml set` changes", hint=f"keys: {', '.join(fields.SET_KEYS)}")
        if key in changes:
            raise UsageError(f"{key} is given twice")
        changes[key] = value
    return changes


@dataclass
class ChangedSpec:
    spec: DomainSpec
    warnings: list[str]  # rfconsole's own rules the change breaks (libvirt accepts them)


def changed_spec(document: DomainDocument, changes: Mapping[str, str], base: Path | None = None) -> ChangedSpec:
    """The document's settings with ``changes`` (texts, by `xml set` key or form field) applied.
    Relative paths are taken from ``base`` (default: the current directory). Raises InvalidSpec
    only for what libvirt would refuse; rfconsole's own rules the change breaks are warnings."""
    from rfconsole.model.spec import DomainSpec

    values = document.values()
    for key, given in changes.items():
        if given == "" and key not in fields.CLEARABLE_KEYS:
            raise InvalidSpec([_empty(key)])
    if "hypervisor" in changes:
        new_container = changes["hypervisor"].strip().lower() == "lxc"
        if "os_type" not in changes:
            values["os_type"] = None
        if "init" not in changes and not new_container:
            values["init"] = None
    if isinstance(values.get("id"), str) and "id" not in changes:
        values["id"] = None
    if "hypervisor" in changes:
        values["image_kind"] = None
    boot_keys = tuple(binding.set_key for binding in fields.group_rows(fields.DOMAIN_ROWS, "kernel_boot"))
    boot = dict(values["kernel_boot"] or dict.fromkeys(boot_keys))
    for key, text in changes.items():
        binding = fields.binding_for(key)
        value: str | None = text or None
        if value is not None and binding.host_path:
            value = _absolute(value, base)  # a path relative to where the command runs
        if binding.converter == "root-storage":
            values["image"], values["image_kind"] = value, None
        elif "." in binding.key:
            boot[binding.set_key] = value
        else:
            values[binding.key] = value
    if set(boot_keys) & changes.keys():
        if boot["kernel"] is None and (boot["initrd"] or boot["cmdline"]):
            raise InvalidSpec([_empty("kernel")])
        values["kernel_boot"] = boot if boot["kernel"] else None
    try:
        return ChangedSpec(DomainSpec(**values), [])
    except InvalidSpec:
        spec = DomainSpec.read(values)
    try:
        before = {(problem.field, problem.message) for problem in document.spec().house_rule_problems()}
    except InvalidSpec:
        before = set()
    warnings = [
        f"rfconsole would not create this: {problem}"
        for problem in spec.house_rule_problems()
        if (problem.field, problem.message) not in before
    ]
    return ChangedSpec(spec, warnings)


def _absolute(text: str | None, base: Path | None) -> str | None:
    if not text:
        return None
    path = Path(os.path.expanduser(text))  # an unknown ~user stays as written (Path.expanduser raises)
    return str(path if path.is_absolute() else (base or Path.cwd()).absolute() / path)


def _empty(key: str) -> Problem:
    if key == "kernel":
        return Problem("kernel", None, "an initrd or command line needs a kernel (direct kernel boot)")
    return Problem(key, "", f"{key} cannot be empty")


# ----------------------------------------------------------------------------- ids
def choose_id(preferred: int | None, taken: Iterable[int | None]) -> int:
    """The one id rule of both faces: ``preferred`` (a preset's id) when no other VM has it, else
    the next free id (one more than the highest in use)."""
    used = {number for number in taken if isinstance(number, int)}
    if preferred is not None and preferred not in used:
        return preferred
    return max(used, default=0) + 1

