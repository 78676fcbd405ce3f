"""The wizard's steps with special fields: the target and host, the hypervisor's choice, the image
with its picker and bases, the NICs, the review (the table's other fields of a step are drawn
around them as in every step: wizardsteps.py)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import (
    Button,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Select,
    Static,
    TextArea,
)

from rfconsole.model import spec as models
from rfconsole.model.errors import InvalidSpec, Problem
from rfconsole.model.fields import Binding
from rfconsole.model.kinds import MANAGED_HYPERVISORS, Hypervisor
from rfconsole.model.rftest2 import RFTEST2_PRESETS, RFTEST2_VMS
from rfconsole.model.spec import Interface
from rfconsole.tui import wizardsupport as support
from rfconsole.tui.widgets.wizardfields import NicRow, field_row
from rfconsole.tui.widgets.wizardsteps import (
    Step,
    Wizard,
    WizardStep,
    look_of,
    set_note,
)

NEW_VM = "new"
FIRST_PRESET = next(iter(RFTEST2_PRESETS))


def chosen_radio(radios: RadioSet) -> str | None:
    # read the buttons, not RadioSet.pressed_button: that follows a value set in code one message late
    chosen = [button.name for button in radios.query(RadioButton) if button.value]
    return chosen[-1] if chosen else None


def target_kind(preset: str) -> str:
    return "rftest2 slot" if preset in RFTEST2_VMS else "rftest2's naming, one more router"


class TargetStep(WizardStep):
    STEP = Step("target", "Target", ("target", "host"))

    def __init__(self, wizard: Wizard, slot: str | None) -> None:
        super().__init__(wizard)
        presets = [RadioButton(f"{preset}  ({target_kind(preset)})", value=preset == (slot or FIRST_PRESET), name=preset) for preset in RFTEST2_PRESETS]
        self._targets = RadioSet(*presets, RadioButton("a new VM", name=NEW_VM), id="f-target")
        hosts = support.host_names(wizard.context)
        self._host = Select([(h, h) for h in hosts], value=hosts[0] if hosts else Select.NULL, allow_blank=not hosts, id="f-host", compact=True)

    def compose_before(self) -> ComposeResult:
        yield Static("Which VM: one of rftest2's slots, rfvmE or rfvmF (one more router by rftest2's naming), or a new VM of your own; and on which host.", classes="intro")
        yield self._targets
        yield Label("", classes="field-error", id="e-target")
        yield field_row("Host", self._host, "host")

    def target(self) -> str:
        return chosen_radio(self._targets) or FIRST_PRESET

    def host(self) -> str | None:
        value = self._host.value
        return None if value is Select.NULL else str(value)


class HypervisorStep(WizardStep):
    """The hypervisors the host offers; the others disabled, each with its reason."""

    STEP = Step("hypervisor", "Hypervisor")

    def __init__(self, wizard: Wizard) -> None:
        super().__init__(wizard)
        self._radios = RadioSet(*(RadioButton(h.value, name=h.value) for h in MANAGED_HYPERVISORS), id="f-hypervisor")
        self._reasons = Static("", id="hypervisor-reasons")

    def compose_before(self) -> ComposeResult:
        yield Static("Hypervisor: the ones this host does not offer are shown with the reason.", classes="intro")

    def compose_special(self, binding: Binding) -> Iterable[Widget] | None:
        if binding.key != "hypervisor":
            return None
        return (self._radios, self._reasons, Label("", classes="field-error", id="e-hypervisor"))

    def hypervisor(self) -> Hypervisor | None:
        chosen = chosen_radio(self._radios)
        return Hypervisor(chosen) if chosen else None

    def value_of(self, binding: Binding) -> Any:
        return self.hypervisor() if binding.key == "hypervisor" else super().value_of(binding)

    def enter(self) -> None:
        context, host = self.wizard.context, self.wizard.host()
        self.wizard.ask_host(f"reading the hypervisors of host {host}", lambda: support.hypervisor_choices(context, host), self._show)

    def _show(self, choices: tuple[set[Hypervisor], dict[Hypervisor, str]]) -> None:
        offered, why_not = choices
        reasons = []
        for button in self._radios.query(RadioButton):
            hypervisor = Hypervisor(button.name)
            button.disabled = hypervisor not in offered
            if button.disabled:
                if button.value:
                    button.value = False
                reasons.append(f"{hypervisor.value}: {why_not.get(hypervisor, '')}")
        if self.hypervisor() is None and offered:
            first = next(b for b in self._radios.query(RadioButton) if Hypervisor(b.name) in offered)
            first.value = True
        self._reasons.update("\n".join(reasons))


class IdentityStep(WizardStep):
    """Name and id; entering it fills the later steps with the target's defaults (a slot's, or a
    new VM's), keeping the user's edits that still hold, and says which were kept or reset."""

    STEP = Step("identity", "Identity")
    PREFILLED = ("vcpu", "memory", "image")  # besides the NICs
    WORDS = {"vcpu": "vCPUs", "memory": "memory", "image": "image", "interfaces": "network interfaces"}

    def __init__(self, wizard: Wizard, network: NetworkStep) -> None:
        super().__init__(wizard)
        self.network = network
        self._prefilled_for: tuple[str, str] | None = None
        self._filled: dict[str, Any] = {}  # what the wizard last put in the prefilled fields

    def enter(self) -> None:
        wizard = self.wizard
        target, hypervisor = wizard.target(), wizard.hypervisor()
        if self._prefilled_for == (target, str(hypervisor)):
            return
        self._prefilled_for = (target, str(hypervisor))
        defaults = support.defaults_for(wizard.context, target, hypervisor, wizard.host())
        self.set_text("name", defaults.name if target != NEW_VM else self.text("name"))
        if not self.text("id"):
            self.set_text("id", str(support.suggest_id(wizard.context, target)))
        kept, dropped = support.merge_edits(defaults, self._edited_since_filled())
        fills = {"vcpu": str(defaults.vcpu), "memory": str(defaults.memory), "image": str(defaults.image or "")}
        for field, value in fills.items():
            if field not in kept:
                wizard.set_text(field, value)
        if "interfaces" not in kept:
            self.network.set_nics(defaults.interfaces)
        self._filled = {**fills, "interfaces": defaults.interfaces}
        if kept or dropped:
            said = [f"kept your {', '.join(self.WORDS[field] for field in kept)}"] if kept else []
            said += [f"{self.WORDS[problem.field.split('.')[0]]} reset: {problem.message}" for problem in dropped]
            now = f"{target} on {hypervisor.value if hypervisor else '?'}"
            self.app.notify(f"Now {now}: " + "; ".join(said), title="Your edits", severity="warning" if dropped else "information", timeout=8)

    def _edited_since_filled(self) -> dict[str, Any]:
        """The prefilled fields the user has changed since (nothing before the first prefill)."""
        if not self._filled:
            return {}
        edited: dict[str, Any] = {field: self.wizard.text(field) for field in self.PREFILLED if self.wizard.text(field) != self._filled[field]}
        typed = self.network.typed_nics()
        try:
            unchanged = tuple(models.Interface(**nic) for nic in typed) == self._filled["interfaces"]
        except InvalidSpec:
            unchanged = False
        if not unchanged:
            edited["interfaces"] = typed
        return edited


class StorageStep(WizardStep):
    """The image, with a file picker over Images/ and the bases an overlay can be made of."""

    STEP = Step("storage", "Storage", ("image_kind",))

    def compose_special(self, binding: Binding) -> Iterable[Widget] | None:
        if binding.key != "image":
            return None
        image = self._widgets["image"] = Input(id="f-image", placeholder=look_of(binding).placeholder, compact=True)
        return (Horizontal(field_row(look_of(binding).label, image, "image", ""), Button("Browse…", id="browse", compact=True), classes="with-button"),)

    def compose_after(self) -> ComposeResult:
        self._base: Select[str] = Select(support.base_choices(self.wizard.context), id="f-base", prompt="(none: the image above)",
                                         allow_blank=True, compact=True)
        yield field_row("Or an overlay of a base (rfconsole image base)", self._base, "base", "")

    def value_of(self, binding: Binding) -> Any:
        """The image as typed; a relative path is taken from the working folder, as the table shows it."""
        if binding.key != "image":
            return super().value_of(binding)
        text = self.text("image")
        if not text or text.startswith(("/", "~")):
            return text or None
        return str(self.wizard.context.workdir.root / text)

    def chosen_base(self) -> Path | None:
        value = self._base.value
        return None if value is Select.NULL else Path(str(value))

    def enter(self) -> None:
        self._flag_missing_image()

    @on(Input.Changed, "#f-image")
    def _flag_missing_image(self) -> None:
        self.note("image", support.image_note(self.text("image")))

    @on(Select.Changed, "#f-base")
    def _base_chosen(self, event: Select.Changed) -> None:
        if event.value is Select.NULL:
            self.note("base", "")
            return
        overlay = support.overlay_path(self.wizard.context, self.text("image"), self.wizard.text("name"))
        self.set_text("image", str(overlay))
        self.note("base", f"saving makes {overlay.name}, a qcow2 overlay of {Path(str(event.value)).name} (never over an existing file)")

    @on(Button.Pressed, "#browse")
    def _browse(self) -> None:
        from rfconsole.tui.screens.dialogs import FilePickerDialog

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.set_text("image", str(path))

        self.app.push_screen(FilePickerDialog(support.images_root(self.wizard.context), "Choose the image"), chosen)


class NetworkStep(WizardStep):
    """The NICs, a row each, every field editable; rows added and removed."""

    STEP = Step("network", "Network", ("interfaces",))

    def __init__(self, wizard: Wizard) -> None:
        super().__init__(wizard)
        self._nics = Vertical(id="nics")
        self._error = Label("", classes="field-error", id="e-interfaces")
        self.nic_count = 0

    def compose_before(self) -> ComposeResult:
        yield Static("Network interfaces (rftest2's for a slot); edit any field.", classes="intro")
        yield self._nics
        yield self._error
        yield Horizontal(Button("Add NIC", id="add-nic", compact=True), Button("Remove last", id="remove-nic", compact=True), classes="buttons")

    def typed_nics(self) -> list[dict[str, Any]]:
        return [row.interface() for row in self.query(NicRow)]

    def values(self) -> dict[str, Any]:
        return {**super().values(), "interfaces": self.typed_nics()}

    def set_nics(self, nics: Iterable[Interface]) -> None:
        self._nics.remove_children()
        self.nic_count = 0
        for nic in nics:
            self.add_nic(nic)

    def add_nic(self, nic: Interface | None) -> None:
        self._nics.mount(NicRow(self.nic_count, nic))
        self.nic_count += 1

    @on(Button.Pressed, "#add-nic")
    def _add_pressed(self) -> None:
        self.add_nic(None)

    @on(Button.Pressed, "#remove-nic")
    def _remove_pressed(self) -> None:
        rows = list(self.query(NicRow))
        if rows:
            rows[-1].remove()
            self.nic_count -= 1
            set_note(self._error, "")  # its errors went with it; Next checks the others again


class ReviewStep(Vertical):
    """The XML, live, with libvirt's schema check, and everything the three saves would meet."""

    STEP = Step("review", "Review", ("xml",))

    def __init__(self, wizard: Wizard) -> None:
        super().__init__(id="pane-review", classes="pane")
        self.wizard = wizard
        self._verdict = Label("", id="review-verdict")
        self._notes = Static("", id="review-notes")
        self._xml = TextArea("", id="review-xml", read_only=True, language="xml", show_line_numbers=True)
        self._xml.cursor_blink = False

    def compose(self) -> ComposeResult:
        yield self._verdict
        yield self._notes
        yield self._xml
        yield Label("", classes="field-error", id="e-xml")

    def values(self) -> dict[str, Any]:
        return {}

    def enter(self) -> None:
        wizard = self.wizard
        try:
            spec = wizard.build_spec()
        except InvalidSpec as invalid:
            wizard.show_problems(invalid.problems)
            return
        xml, problems = support.render_xml(spec)
        self._xml.text = xml
        self._notes.update("")
        if problems:
            self._verdict.update(f"✗ libvirt's schema finds {len(problems)} problem(s)")
            wizard.show_problems([Problem("xml", None, str(p)) for p in problems])
            return
        self._verdict.update(f"✓ {spec.name}: follows libvirt's domain schema · host {wizard.host()}")
        wizard.show_problems([])
        context, host, base = wizard.context, wizard.host(), wizard.chosen_base()
        wizard.ask_host("checking what saving would meet", lambda: support.review_check(context, spec, host, base), self.show_check)

    def show_check(self, check: support.ReviewCheck) -> None:
        """Every problem the three save buttons would meet, before any is pressed."""
        lines = check.lines()
        if self.wizard.saved is not None:
            lines.append(f"• already saved to {self.wizard.context.workdir.shown(self.wizard.saved.path)}: a save now writes over it")
        self._notes.update("\n".join(lines) or "✓ nothing stands in the way of saving, defining or starting it")
