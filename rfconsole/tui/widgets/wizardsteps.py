"""The wizard's steps as widgets, their fields made from the binding table (model/fields.py).

Every row of ``DOMAIN_FIELDS`` whose ``step`` is a step's id is a field of that step, in the
table's order: a text field by default (its words from the row's label and ``xml new`` flag), or
as ``LOOKS`` shows the known ones, and its value is handed to the model under the row's key (a
nested key such as ``kernel_boot.kernel`` in its group, which a checkbox turns on). So a new row
with a ``step`` is asked for by the wizard without editing it. The special fields (the target, the
hypervisor's choice, the image with its picker, the NICs, the review) are drawn by their steps,
here and in wizardpanes.py; tui/screens/wizard.py shows one step at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select

from rfconsole.model import fields as table
from rfconsole.model.errors import Problem
from rfconsole.model.fields import Binding
from rfconsole.model.kinds import DEFAULT_LXC_INIT, OS_TYPE_FOR, Arch, Hypervisor
from rfconsole.model.spec import DomainSpec
from rfconsole.tui import wizardsupport as support
from rfconsole.tui.context import ConsoleContext
from rfconsole.tui.widgets.wizardfields import field_row

Result = TypeVar("Result")


class Wizard(Protocol):
    """What a step uses of the wizard screen that shows it (tui/screens/wizard.py)."""

    saved: support.Saved | None  # saved to XML/ already, its define or start refused

    @property
    def context(self) -> ConsoleContext: ...

    def target(self) -> str: ...

    def host(self) -> str | None: ...

    def hypervisor(self) -> Hypervisor | None: ...

    def chosen_base(self) -> Path | None: ...

    def text(self, key: str) -> str: ...

    def set_text(self, key: str, text: str) -> None: ...

    def build_spec(self) -> DomainSpec: ...

    def show_problems(self, problems: list[Problem]) -> None: ...

    def ask_host(self, doing: str, job: Callable[[], Result], then: Callable[[Result], object]) -> None: ...


@dataclass(frozen=True)
class Look:
    """How the wizard shows a field of the table."""

    label: str
    placeholder: str = ""
    hint: str = ""
    value: str = ""  # what the field holds at first
    blank: str | None = None  # what an empty field gives the model: None (its default), or "" (the model says what is missing)
    choices: tuple[str, ...] | None = None  # a choice of these (the step may change them; blank allowed without a first value); None: text


# The known fields' words, first values and choices, keyed by the table's keys (a group's checkbox is worded by its row).
LOOKS: dict[str, Look] = {
    "name": Look("Name", "e.g. rfvmA", "letters, digits, '_', '.', '-'; unique in XML/ and on the host", blank=""),
    "id": Look("Id", "a whole number", "unique in XML/; a free one is suggested"),
    "arch": Look("Architecture", value=Arch.X86_64.value, choices=tuple(arch.value for arch in Arch)),
    "os_type": Look("OS type", choices=()),
    "init": Look("Init (LXC)", DEFAULT_LXC_INIT),
    "kernel_boot.kernel": Look("Kernel", "/boot/vmlinuz", blank=""),
    "kernel_boot.initrd": Look("Initrd", "(optional)"),
    "kernel_boot.cmdline": Look("Kernel command line", "console=ttyS0"),
    "vcpu": Look("vCPUs", value="1", blank=""),
    "memory": Look("Memory (MiB, 2^20 bytes)", value="512", blank=""),
    "image": Look("Image", "/path/to/image"),
}


def look_of(binding: Binding) -> Look:
    """The field's look: the known one, else made from its row: its label and ``xml new`` option's
    words, its default as the first value (one that must be given: an empty field says so), a
    choice of an enum's values."""
    if binding.key in LOOKS:
        return LOOKS[binding.key]
    label, flag, default = binding.label or binding.key, binding.flag, binding.default
    required = default is table.REQUIRED
    first = "" if required or default is None else str(getattr(default, "value", default))
    kind = binding.kind
    choices = tuple(str(member.value) for member in kind) if isinstance(kind, type) and issubclass(kind, Enum) else None
    return Look(label[:1].upper() + label[1:], flag.metavar if flag else "", flag.help if flag else "", first, "" if required else None, choices)


def group_label(group: str) -> str:
    """The words of a group's checkbox: the known ones, else its row's label (kernel_boot: direct kernel boot)."""
    if group in LOOKS:
        return LOOKS[group].label
    words = next((row.label for row in table.DOMAIN_ROWS if row.key == group and row.label), group.replace("_", " "))
    return words[:1].upper() + words[1:]


def field_name(binding: Binding, first_of_group: bool) -> str:
    """The name its row, hint and error go by: a group's problems (kernel_boot.*) show under its first field."""
    root = binding.key.split(".")[0]
    return root if first_of_group or "." not in binding.key else binding.set_key


def field_widget(binding: Binding, look: Look) -> Input | Select[str]:
    if look.choices is None:
        return Input(look.value, id=f"f-{binding.set_key}", placeholder=look.placeholder, compact=True)
    return Select([(choice, choice) for choice in look.choices], value=look.value or Select.NULL,
                  allow_blank=not look.value, id=f"f-{binding.set_key}", compact=True)


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    extra: tuple[str, ...] = ()  # the fields it shows problems of beyond the table's (wizard-only ones)

    @property
    def fields(self) -> tuple[str, ...]:
        """The DomainSpec fields (and wizard-only ones) checked on this step, the table's as it is now."""
        return (*table.fields_of_step(self.id), *self.extra)


class WizardStep(VerticalScroll):
    """One step's pane: its table fields (special ones drawn by ``compose_special``), its own
    widgets before and after them; ``values()`` hands what was typed to the model."""

    STEP: ClassVar[Step]

    def __init__(self, wizard: Wizard) -> None:
        super().__init__(id=f"pane-{self.STEP.id}", classes="pane")
        self.wizard = wizard
        self._widgets: dict[str, Input | Select[str]] = {}  # by the table's key
        self._rows: dict[str, Widget] = {}
        self._toggles: dict[str, Checkbox] = {}  # a group's checkbox, by the group's name
        self._groups: dict[str, list[Widget]] = {}  # a group's rows

    def bindings(self) -> list[Binding]:
        """The table's rows of this step, as the table is now."""
        return [binding for binding in table.DOMAIN_FIELDS if binding.step == self.STEP.id]

    def compose(self) -> ComposeResult:
        yield from self.compose_before()
        for binding in self.bindings():
            special = self.compose_special(binding)
            if special is not None:
                yield from special
                continue
            root = binding.key.split(".")[0]
            first_of_group = "." in binding.key and root not in self._toggles
            if first_of_group:
                self._toggles[root] = Checkbox(group_label(root), id=f"f-{binding.set_key}-on")
                yield self._toggles[root]
            look = look_of(binding)
            widget = self._widgets[binding.key] = field_widget(binding, look)
            row = self._rows[binding.key] = field_row(look.label, widget, field_name(binding, first_of_group), look.hint)
            if "." in binding.key:
                self._groups.setdefault(root, []).append(row)
            yield row
        yield from self.compose_after()

    def compose_before(self) -> ComposeResult:
        yield from ()

    def compose_after(self) -> ComposeResult:
        yield from ()

    def compose_special(self, binding: Binding) -> Iterable[Widget] | None:
        """The widgets of a field this step draws itself; None: the table's field as it is."""
        return None

    def enter(self) -> None:
        """The wizard comes to this step (it may ask the host, through ``wizard.ask_host``)."""

    # ---- values ---------------------------------------------------------------------------

    def owns(self, key: str) -> bool:
        return key in self._widgets

    def text(self, key: str) -> str:
        widget = self._widgets[key]
        if isinstance(widget, Input):
            return widget.value.strip()
        return "" if widget.value is Select.NULL else str(widget.value)

    def choice(self, key: str) -> Select[str]:
        widget = self._widgets[key]
        if not isinstance(widget, Select):
            raise TypeError(f"the wizard's {key} is typed, not chosen")
        return widget

    def set_text(self, key: str, text: str) -> None:
        widget = self._widgets[key]
        if isinstance(widget, Input):
            widget.value = text
        else:
            widget.value = text or Select.NULL

    def asks(self, field: str) -> bool:
        """Whether the model gets ``field`` (a top-level one) now: a group only when its checkbox is on."""
        toggle = self._toggles.get(field)
        return toggle is None or toggle.value

    def value_of(self, binding: Binding) -> Any:
        """The field as typed (text: the model converts and judges); an empty one as its look says."""
        return self.text(binding.key) or look_of(binding).blank

    def values(self) -> dict[str, Any]:
        """This step's fields as typed so far, under the table's keys (a group's as a dict)."""
        values: dict[str, Any] = {}
        for binding in self.bindings():
            root, _, member = binding.key.partition(".")
            if not self.asks(root):
                continue
            if member:
                values.setdefault(root, {})[member] = self.value_of(binding)
            else:
                values[root] = self.value_of(binding)
        return values

    # ---- showing ---------------------------------------------------------------------------

    def row(self, key: str) -> Widget:
        return self._rows[key]

    def note(self, name: str, text: str) -> None:
        """The line under a field (``h-NAME``), shown only when there is something to say."""
        set_note(self.query_one(f"#h-{name}", Label), text)

    def group_shown(self, group: str) -> bool:
        return self._toggles[group].value

    def show_groups(self) -> None:
        for group, rows in self._groups.items():
            for row in rows:
                row.display = self.group_shown(group)

    @on(Checkbox.Changed)
    def _toggled(self, event: Checkbox.Changed) -> None:
        if event.checkbox in self._toggles.values():
            self.show_groups()


def set_note(label: Label, text: str) -> None:
    label.update(text)
    label.display = bool(text)


class OsStep(WizardStep):
    """Init for LXC only; direct kernel boot for the others; the host's architectures for the hypervisor."""

    STEP = Step("os", "OS")

    def asks(self, field: str) -> bool:
        lxc = self.wizard.hypervisor() is Hypervisor.LXC
        if field == "init":
            return lxc
        if field == "kernel_boot":
            return not lxc and super().asks(field)
        return super().asks(field)

    def group_shown(self, group: str) -> bool:
        return super().group_shown(group) and not (group == "kernel_boot" and self.wizard.hypervisor() is Hypervisor.LXC)

    def enter(self) -> None:
        hypervisor = self.wizard.hypervisor()
        os_type = self.choice("os_type")
        if hypervisor is None:
            os_type.set_options([])
        else:
            needed = OS_TYPE_FOR[hypervisor]
            os_type.set_options([(f"{needed.value} (what {hypervisor.value} needs)", needed.value)])
            os_type.value = needed.value
        is_lxc = hypervisor is Hypervisor.LXC
        self.row("init").display = is_lxc
        if is_lxc and not self.text("init"):
            self.set_text("init", DEFAULT_LXC_INIT)
        self._toggles["kernel_boot"].display = not is_lxc
        self.show_groups()
        context, host = self.wizard.context, self.wizard.host()
        self.wizard.ask_host(f"reading the architectures of host {host}", lambda: support.arch_choices(context, host, hypervisor), self._show_archs)

    def _show_archs(self, choices: support.ArchChoices) -> None:
        """The host's architectures for the hypervisor; the one chosen stays when it is one of them."""
        select = self.choice("arch")
        chosen = select.value
        select.set_options([(arch, arch) for arch in choices.archs])
        select.value = chosen if chosen in choices.archs else choices.archs[0]
        self.note("arch", choices.note)


class ResourcesStep(WizardStep):
    """The vCPU limit of the host shown under the field."""

    STEP = Step("resources", "Resources")

    def enter(self) -> None:
        context, host = self.wizard.context, self.wizard.host()

        def show(limit: int | None) -> None:
            self.note("vcpu", f"host {host} allows at most {limit}" if limit else "")

        self.wizard.ask_host(f"reading the vCPU limit of host {host}", lambda: support.vcpu_limit(context, host), show)
