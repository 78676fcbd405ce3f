"""The model's user-facing errors: every refusal names the field, the value and what is allowed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rfconsole.errors import RfconsoleError

NIC_FIELD_WORDS = {"mac": "MAC", "bridge": "bridge", "network": "network", "target_dev": "host dev",
                   "virtualport": "OVS port", "model": "model", "type": "type", "source_dev": "source device"}
KERNEL_FIELD_WORDS = {"kernel": "kernel", "initrd": "initrd", "cmdline": "kernel command line"}


def field_words(problem_field: str) -> str:
    """A nested field as both faces name it: 'interfaces.0.mac' is eth0's MAC, 'kernel_boot.kernel'
    the kernel, 'disks.1.source' disk 2's source; a top-level field is its own name."""
    parts = problem_field.split(".")
    if parts[0] == "interfaces" and len(parts) > 1 and parts[1].isdigit():
        return f"eth{parts[1]}" + (f" {NIC_FIELD_WORDS.get(parts[2], parts[2].replace('_', ' '))}" if len(parts) > 2 else "")
    if parts[0] == "disks" and len(parts) > 1 and parts[1].isdigit():
        return f"disk {int(parts[1]) + 1}" + (f" {parts[2].replace('_', ' ')}" if len(parts) > 2 else "")
    if parts[0] == "kernel_boot" and len(parts) > 1:
        return KERNEL_FIELD_WORDS.get(parts[1], parts[1])
    return problem_field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field (or one line of a file, for schema problems)."""

    field: str
    value: Any
    message: str

    def __str__(self) -> str:
        if self.value is None or self.value == "":
            return f"{field_words(self.field)}: {self.message}"
        return f"{field_words(self.field)}: {self.message} (given: {_show(self.value)})"


SHOWN_VALUE = 120  # characters of a given value a message quotes at most


def _show(value: Any) -> str:
    """The value as given, quoted; a long one keeps its start and its end (a path's file name)."""
    text = str(value.value) if hasattr(value, "value") and not isinstance(value, str) else str(value)
    if len(text) > SHOWN_VALUE:
        text = text[:40] + "..." + text[-(SHOWN_VALUE - 43):]
    return repr(text)


class _ProblemList(RfconsoleError):
    heading = "problems"

    def __init__(self, problems: Iterable[Problem], hint: str | None = None, source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        where = f"{source}: " if source else ""
        lines = [f"{where}{self.heading}:"] + [f"  - {problem}" for problem in self.problems]
        if len(self.problems) == 1:
            lines = [f"{where}{self.problems[0]}"]
        super().__init__("\n".join(lines), hint)


class InvalidSpec(_ProblemList):
    """The VM's settings break a rule of the model."""

    heading = "invalid VM settings"


class SchemaProblems(_ProblemList):
    """The XML does not follow libvirt's own domain schema (domain.rng)."""

    heading = "does not follow libvirt's domain schema"


class XMLInputError(RfconsoleError):
    """The input is not XML we are willing to read: broken, hostile or too big."""
