"""The new-VM wizard: steps in view, back and next, each step checked by the model before the next.

The model (DomainSpec, preset_spec, schema_problems) decides what is valid; this screen only places
each problem beside the field it names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    ContentSwitcher,
    Header,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Select,
    Static,
    TextArea,
)
from textual.worker import Worker, WorkerState

from rfconsole.errors import RfconsoleError
from rfconsole.model.errors import InvalidSpec, Problem, field_words
from rfconsole.model.fields import fields_of_step
from rfconsole.model.rftest2 import RFTEST2_PRESETS, RFTEST2_VMS
from rfconsole.model.spec import (
    MANAGED_HYPERVISORS,
    OS_TYPE_FOR,
    Arch,
    DomainSpec,
    Hypervisor,
    Interface,
)
from rfconsole.tui import keymap
from rfconsole.tui import wizardsupport as support
from rfconsole.tui.styles import stylesheet_paths
from rfconsole.tui.unsaved import HoldsWork
from rfconsole.tui.widgets.keybar import KeyBar
from rfconsole.tui.widgets.wizardfields import NicRow, field_row

NEW_VM = "new"
FIRST_PRESET = next(iter(RFTEST2_PRESETS))
HOST_QUESTIONS = "wizard"  # the worker group of the libvirt calls the wizard makes


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    fields: tuple[str, ...]  # the DomainSpec fields (and wizard-only ones) checked on this step


# The model's fields each step asks for come from the binding table (model/fields.py).
STEPS = (
    Step("target", "Target", ("target", "host")),
    Step("hypervisor", "Hypervisor", fields_of_step("hypervisor")),
    Step("identity", "Identity", fields_of_step("identity")),
    Step("os", "OS", fields_of_step("os")),
    Step("resources", "Resources", fields_of_step("resources")),
    Step("storage", "Storage", (*fields_of_step("storage"), "image_kind")),
    Step("network", "Network", ("interfaces",)),
    Step("review", "Review", ("xml",)),
)
FIELD_WORDS = {"vcpu": "vCPUs", "memory": "memory", "image": "image", "interfaces": "network interfaces"}
STEP_OF_FIELD = {field: index for index, step in enumerate(STEPS) for field in step.fields}


def step_of(problem_field: str) -> int:
    root = problem_field.split(".")[0]
    return STEP_OF_FIELD.get(root, len(STEPS) - 1)


@dataclass(frozen=True)
class WizardResult:
    """What the wizard made: the screen that opened it gets this through its dismiss callback."""

    name: str
    host: str | None
    path: Path


class WizardScreen(HoldsWork, Screen["WizardResult | None"]):
    CSS_PATH = stylesheet_paths("wizard.tcss")
    KEYMAP = (keymap.WIZARD,)
    BINDINGS = keymap.WIZARD.bindings()

    def __init__(self, slot: str | None = None) -> None:
        super().__init__()
        self.step = 0
        self.preset_slot = slot
        self.touched = False  # the user went past the first step or chose another target: leaving asks
        self.asking = 0  # questions to the host (libvirt, on workers) not answered yet
        self._queued: list[str] = []  # actions of keys pressed meanwhile, run in order once answered
        self.nic_count = 0
        self._prefilled_for: tuple[str, str] | None = None
        self._filled: dict[str, Any] = {}  # what the wizard last put in the prefilled fields
        self.saved: support.Saved | None = None  # saved to XML/ already, its define or start refused

    # ---- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        context = self.app.context
        hosts = support.host_names(context)
        yield Header()
        with Horizontal(id="steps"):
            for index, step in enumerate(STEPS):
                yield Label(f"{index + 1} {step.title}", id=f"step-{step.id}", classes="step")
        with ContentSwitcher(initial="pane-target", id="panes"):
            with VerticalScroll(id="pane-target", classes="pane"):
                yield Static("Which VM: one of rftest2's slots, rfvmE or rfvmF (one more router by rftest2's naming), or a new VM of your own; and on which host.", classes="intro")
                with RadioSet(id="f-target"):
                    for preset in RFTEST2_PRESETS:
                        kind = "rftest2 slot" if preset in RFTEST2_VMS else "rftest2's naming, one more router"
                        yield RadioButton(f"{preset}  ({kind})", value=preset == (self.preset_slot or FIRST_PRESET), name=preset)
                    yield RadioButton("a new VM", name=NEW_VM)
                yield Label("", classes="field-error", id="e-target")
                yield field_row("Host", Select([(h, h) for h in hosts], value=hosts[0] if hosts else Select.NULL, allow_blank=not hosts, id="f-host", compact=True), "host")
            with VerticalScroll(id="pane-hypervisor", classes="pane"):
                yield Static("Hypervisor: the ones this host does not offer are shown with the reason.", classes="intro")
                with RadioSet(id="f-hypervisor"):
                    for hypervisor in MANAGED_HYPERVISORS:
                        yield RadioButton(hypervisor.value, name=hypervisor.value)
                yield Static("", id="hypervisor-reasons")
                yield Label("", classes="field-error", id="e-hypervisor")
            with VerticalScroll(id="pane-identity", classes="pane"):
                yield field_row("Name", Input(id="f-name", placeholder="e.g. rfvmA", compact=True), "name", "letters, digits, '_', '.', '-'; unique in XML/ and on the host")
                yield field_row("Id", Input(id="f-id", placeholder="a whole number", compact=True), "id", "unique in XML/; a free one is suggested")
            with VerticalScroll(id="pane-os", classes="pane"):
                yield field_row("Architecture", Select([(a.value, a.value) for a in Arch], value=Arch.X86_64.value, allow_blank=False, id="f-arch", compact=True), "arch")
                yield field_row("OS type", Select([], id="f-os_type", allow_blank=True, compact=True), "os_type", "")
                yield field_row("Init (LXC)", Input(id="f-init", placeholder="/sbin/init", compact=True), "init")
                yield Checkbox("Direct kernel boot", id="f-kernel-on")
                yield field_row("Kernel", Input(id="f-kernel", placeholder="/boot/vmlinuz", compact=True), "kernel_boot")
                yield field_row("Initrd", Input(id="f-initrd", placeholder="(optional)", compact=True), "initrd")
                yield field_row("Kernel command line", Input(id="f-cmdline", placeholder="console=ttyS0", compact=True), "cmdline")
            with VerticalScroll(id="pane-resources", classes="pane"):
                yield field_row("vCPUs", Input("1", id="f-vcpu", compact=True), "vcpu", "")
                yield field_row("Memory (MiB, 2^20 bytes)", Input("512", id="f-memory", compact=True), "memory")
            with VerticalScroll(id="pane-storage", classes="pane"):
                with Horizontal(classes="with-button"):
                    yield field_row("Image", Input(id="f-image", placeholder="/path/to/image", compact=True), "image", "")
                    yield Button("Browse…", id="browse", compact=True)
                yield field_row("Or an overlay of a base (rfconsole image base)",
                                Select(support.base_choices(self.app.context), id="f-base", prompt="(none: the image above)",
                                       allow_blank=True, compact=True), "base", "")
            with VerticalScroll(id="pane-network", classes="pane"):
                yield Static("Network interfaces (rftest2's for a slot); edit any field.", classes="intro")
                yield Vertical(id="nics")
                yield Label("", classes="field-error", id="e-interfaces")
                with Horizontal(classes="buttons"):
                    yield Button("Add NIC", id="add-nic", compact=True)
                    yield Button("Remove last", id="remove-nic", compact=True)
            with Vertical(id="pane-review", classes="pane"):
                yield Label("", id="review-verdict")
                yield Static("", id="review-notes")
                review = TextArea("", id="review-xml", read_only=True, language="xml", show_line_numbers=True)
                review.cursor_blink = False
                yield review
                yield Label("", classes="field-error", id="e-xml")
        with Horizontal(id="wizard-buttons", classes="buttons"):
            yield Button("Back", id="back", compact=True)
            yield Button("Next", id="next", variant="primary", compact=True)
            yield Button("Save ^s", id="save", variant="primary", compact=True)
            yield Button("Save+define ^d", id="save-define", compact=True)
            yield Button("Save+define+start ^t", id="save-start", variant="success", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.show_problems([])
        self._show_step(0)
        self.query_one("#f-target").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "finish":
            return self.step == len(STEPS) - 1
        if action == "next":
            return self.step < len(STEPS) - 1
        if action == "back":
            return self.step > 0
        return True

    def _show_step(self, index: int) -> None:
        self.step = index
        self.query_one("#panes", ContentSwitcher).current = f"pane-{STEPS[index].id}"
        for position, step in enumerate(STEPS):
            label = self.query_one(f"#step-{step.id}", Label)
            label.set_class(position == index, "current")
            label.set_class(position < index, "done")
        last = index == len(STEPS) - 1
        self.query_one("#back").display = index > 0
        self.query_one("#next").display = not last
        for button in ("#save", "#save-define", "#save-start"):
            self.query_one(button).display = last
        self.refresh_bindings()
        self.sub_title = f"New VM · step {index + 1} of {len(STEPS)}: {STEPS[index].title}"
        try:
            getattr(self, f"_enter_{STEPS[index].id}", lambda: None)()
        except RfconsoleError as error:  # e.g. the host's capabilities cannot be read
            self.app.report(error, f"preparing the {STEPS[index].title} step")
        pane = self.query_one(f"#pane-{STEPS[index].id}")
        focusable = [w for w in pane.query("Input, Select, RadioSet, Checkbox, TextArea") if w.focusable and w.display]
        if focusable:
            focusable[0].focus()

    # ---- values ----------------------------------------------------------------------------

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _chosen_radio(self, selector: str) -> str | None:
        # read the buttons, not RadioSet.pressed_button: that follows a value set in code one message late
        chosen = [button.name for button in self.query_one(selector, RadioSet).query(RadioButton) if button.value]
        return chosen[-1] if chosen else None

    def target(self) -> str:
        return self._chosen_radio("#f-target") or FIRST_PRESET

    def host(self) -> str | None:
        value = self.query_one("#f-host", Select).value
        return None if value is Select.NULL else str(value)

    def hypervisor(self) -> Hypervisor | None:
        chosen = self._chosen_radio("#f-hypervisor")
        return Hypervisor(chosen) if chosen else None

    def collected(self) -> dict[str, Any]:
        """The spec's fields as typed so far (text; the model converts and judges)."""
        values: dict[str, Any] = {
            "hypervisor": self.hypervisor(),
            "name": self._value("#f-name"),
            "id": self._value("#f-id") or None,
            "arch": self.query_one("#f-arch", Select).value,
            "vcpu": self._value("#f-vcpu"),
            "memory": self._value("#f-memory"),
            "image": self._image_path(),
        }
        os_type = self.query_one("#f-os_type", Select).value
        values["os_type"] = None if os_type is Select.NULL else os_type
        if values["hypervisor"] is Hypervisor.LXC:
            values["init"] = self._value("#f-init") or None
        elif self.query_one("#f-kernel-on", Checkbox).value:
            values["kernel_boot"] = {
                "kernel": self._value("#f-kernel"),
                "initrd": self._value("#f-initrd") or None,
                "cmdline": self._value("#f-cmdline") or None,
            }
        values["interfaces"] = [row.interface() for row in self.query(NicRow)]
        return values

    def _image_path(self) -> str | None:
        """The image as typed; a relative path is taken from the working folder, as the table shows it."""
        text = self._value("#f-image")
        if not text or text.startswith(("/", "~")):
            return text or None
        return str(self.app.context.workdir.root / text)

    def build_spec(self) -> DomainSpec:
        """The DomainSpec of everything typed (raises InvalidSpec with per-field problems)."""
        values = self.collected()
        if values["hypervisor"] is None:
            raise InvalidSpec([Problem("hypervisor", None, "choose a hypervisor this host offers")])
        return DomainSpec(**values)  # nested dicts: problems come back as interfaces.0.mac, kernel_boot.kernel

    # ---- checking a step -------------------------------------------------------------------

    def typed(self) -> support.Typed:
        """What the steps hold now, read here on the UI thread for a check on a worker."""
        try:
            spec, invalid = self.build_spec(), ()
        except InvalidSpec as error:
            spec, invalid = None, tuple(error.problems)
        own = self.saved.path if self.saved is not None else None
        return support.Typed(self.host(), self.hypervisor(), self.target() == NEW_VM, spec, invalid, own)

    # ---- the host is asked off the UI thread; keys pressed meanwhile wait their turn ---------

    def _ask_host(self, doing: str, job: Callable[[], Any], then: Callable[[Any], None]) -> None:
        """Run ``job`` (libvirt calls) on a worker, then ``then(result)`` here; its error is told by
        ``on_worker_state_changed``."""
        self.asking += 1

        def asked() -> None:
            result = job()
            self.app.call_from_thread(self._back_on_ui, then, result)

        self.run_worker(asked, name=doing, group=HOST_QUESTIONS, thread=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A question to the host that failed (the host went away): a notification, never a crash,
        and the keys pressed meanwhile still run."""
        if event.worker.group == HOST_QUESTIONS and event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self._back_on_ui(lambda _result: self.app.report(error, event.worker.name), None)

    def _back_on_ui(self, then: Callable[[Any], None], result: Any) -> None:
        self.asking -= 1
        if self.is_attached:
            then(result)
        if not self.asking and self._queued:
            self.call_next(self._run_queued)

    async def _run_queued(self) -> None:
        """The keys pressed while the host was asked, in order, until one asks it again."""
        while self._queued and not self.asking:
            await self.run_action(self._queued.pop(0))

    def _wait_turn(self, action: str) -> bool:
        """While the host is being asked, a key's action waits for the answer (True: queued)."""
        if self.asking:
            self._queued.append(action)
            return True
        return False

    def _check(self, index: int, doing: str, then: Callable[[], None]) -> None:
        """Check the steps up to ``index`` off the UI thread; with no problem, ``then()``; else show
        each problem beside its field, on the first step that has one."""
        context, typed = self.app.context, self.typed()

        def judged(problems: list[Problem]) -> None:
            self.show_problems(problems)
            if problems:
                first = min(step_of(p.field) for p in problems)
                if first != self.step:
                    self._show_step(first)
                return
            then()

        def problems() -> list[Problem]:
            return [p for p in support.step_problems(context, index, typed) if step_of(p.field) <= index]

        self._ask_host(doing, problems, judged)

    def _set_note(self, selector: str, text: str) -> None:
        label = self.query_one(selector, Label)
        label.update(text)
        label.display = bool(text)

    def show_problems(self, problems: list[Problem]) -> None:
        """Each problem beside the field it names (nested fields under their parent's row)."""
        by_field: dict[str, list[str]] = {}
        for problem in problems:
            field = problem.field.split(".")[0]
            if not self.query(f"#e-{field}"):
                field = "xml"
            given = "" if problem.value in (None, "") else f" (given: {_given(problem.value)})"
            where = f"{field_words(problem.field)}: " if "." in problem.field else ""
            by_field.setdefault(field, []).append(f"✗ {where}{problem.message}{given}")
        for label in self.query(".field-error"):
            lines = by_field.get(label.id.removeprefix("e-"), [])
            label.update("\n".join(lines))
            label.display = bool(lines)

    def action_next(self) -> None:
        if self._wait_turn("next") or self.step >= len(STEPS) - 1:
            return
        self.touched = True
        self.report_unsaved_work()
        index = self.step
        self._check(index, "checking this step", lambda: self._show_step(index + 1))

    def action_back(self) -> None:
        if self._wait_turn("back"):
            return
        if self.step > 0:
            self.show_problems([])
            self._show_step(self.step - 1)

    def unsaved_work(self) -> str | None:
        """What leaving would drop, in words; None when the user has not filled anything in."""
        if not self.touched:
            return None
        name = self._value("#f-name") or self.target()
        if self.saved is not None:
            return (f"the wizard: the fields of the VM {name} (saved to {self.app.context.workdir.shown(self.saved.path)}, "
                    "but not defined on the host; changes since then are not saved)")
        return f"the wizard: the fields of the new VM {name} (nothing saved to XML/ yet)"

    @on(RadioSet.Changed, "#f-target")
    def _target_changed(self) -> None:
        self.touched = True
        self.report_unsaved_work()

    @on(Input.Changed)
    def _typed(self) -> None:
        self.report_unsaved_work()

    def action_leave(self) -> None:
        """Leave; with fields filled in, only after the user says yes."""
        work = self.unsaved_work()
        if work is None:
            self.dismiss(None)
            return
        from rfconsole.tui.screens.dialogs import ConfirmDialog

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(ConfirmDialog("Leave the wizard?", f"Dropped if you do: {work}."), answered)

    @on(Button.Pressed, "#next")
    def _next_pressed(self) -> None:
        self.action_next()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_back()

    # ---- entering a step: prefill from the model -------------------------------------------

    def _enter_hypervisor(self) -> None:
        context, host = self.app.context, self.host()
        self._ask_host(f"reading the hypervisors of host {host}", lambda: support.hypervisor_choices(context, host), self._show_hypervisors)

    def _show_hypervisors(self, choices: tuple[set[Hypervisor], dict[Hypervisor, str]]) -> None:
        offered, why_not = choices
        reasons = []
        radios = self.query_one("#f-hypervisor", RadioSet)
        for button in radios.query(RadioButton):
            hypervisor = Hypervisor(button.name)
            button.disabled = hypervisor not in offered
            if button.disabled:
                if button.value:
                    button.value = False
                reasons.append(f"{hypervisor.value}: {why_not.get(hypervisor, '')}")
        if self.hypervisor() is None and offered:
            first = next(b for b in radios.query(RadioButton) if Hypervisor(b.name) in offered)
            first.value = True
        self.query_one("#hypervisor-reasons", Static).update("\n".join(reasons))

    def _enter_identity(self) -> None:
        key = (self.target(), str(self.hypervisor()))
        if self._prefilled_for == key:
            return
        self._prefilled_for = key
        defaults = support.defaults_for(self.app.context, self.target(), self.hypervisor(), self.host())
        self.query_one("#f-name", Input).value = defaults.name if self.target() != NEW_VM else self._value("#f-name")
        if not self._value("#f-id"):
            self.query_one("#f-id", Input).value = str(support.suggest_id(self.app.context, self.target()))
        kept, dropped = support.merge_edits(defaults, self._edited_since_filled())
        fills = {
            "vcpu": str(defaults.vcpu),
            "memory": str(defaults.memory),
            "image": str(defaults.image or ""),
        }
        for field, value in fills.items():
            if field not in kept:
                self.query_one(f"#f-{field}", Input).value = value
        if "interfaces" not in kept:
            self.query_one("#nics").remove_children()
            self.nic_count = 0
            for nic in defaults.interfaces:
                self._add_nic(nic)
        self._filled = {**fills, "interfaces": defaults.interfaces}
        self._say_what_was_kept(kept, dropped)

    def _edited_since_filled(self) -> dict[str, Any]:
        """The prefilled fields the user has changed since (nothing before the first prefill)."""
        if not self._filled:
            return {}
        edited: dict[str, Any] = {
            field: self._value(f"#f-{field}") for field in ("vcpu", "memory", "image") if self._value(f"#f-{field}") != self._filled[field]
        }
        typed = [row.interface() for row in self.query(NicRow)]
        try:
            unchanged = tuple(Interface(**nic) for nic in typed) == self._filled["interfaces"]
        except InvalidSpec:
            unchanged = False
        if not unchanged:
            edited["interfaces"] = typed
        return edited

    def _say_what_was_kept(self, kept: dict[str, Any], dropped: list[Problem]) -> None:
        if not kept and not dropped:
            return
        now = f"{self.target()} on {self.hypervisor().value if self.hypervisor() else '?'}"
        said = [f"kept your {', '.join(FIELD_WORDS[field] for field in kept)}"] if kept else []
        said += [f"{FIELD_WORDS[problem.field.split('.')[0]]} reset: {problem.message}" for problem in dropped]
        self.app.notify(f"Now {now}: " + "; ".join(said), title="Your edits", severity="warning" if dropped else "information", timeout=8)

    def _enter_os(self) -> None:
        hypervisor = self.hypervisor()
        needed = OS_TYPE_FOR[hypervisor] if hypervisor else None
        select = self.query_one("#f-os_type", Select)
        select.set_options([(f"{needed.value} (what {hypervisor.value} needs)", needed.value)] if needed else [])
        if needed:
            select.value = needed.value
        is_lxc = hypervisor is Hypervisor.LXC
        self.query_one("#row-init").display = is_lxc
        if is_lxc and not self._value("#f-init"):
            self.query_one("#f-init", Input).value = "/sbin/init"
        self.query_one("#f-kernel-on").display = not is_lxc
        self._kernel_rows()
        context, host = self.app.context, self.host()
        self._ask_host(f"reading the architectures of host {host}", lambda: support.arch_choices(context, host, hypervisor), self._show_archs)

    def _show_archs(self, choices: support.ArchChoices) -> None:
        """The host's architectures for the hypervisor; the one chosen stays when it is one of them."""
        select = self.query_one("#f-arch", Select)
        chosen = select.value
        select.set_options([(arch, arch) for arch in choices.archs])
        select.value = chosen if chosen in choices.archs else choices.archs[0]
        self._set_note("#h-arch", choices.note)

    @on(Checkbox.Changed, "#f-kernel-on")
    def _kernel_rows(self) -> None:
        shown = self.query_one("#f-kernel-on", Checkbox).value and self.hypervisor() is not Hypervisor.LXC
        for row in ("#row-kernel_boot", "#row-initrd", "#row-cmdline"):
            self.query_one(row).display = shown

    def _enter_resources(self) -> None:
        context, host = self.app.context, self.host()

        def show(limit: int | None) -> None:
            self._set_note("#h-vcpu", f"host {host} allows at most {limit}" if limit else "")

        self._ask_host(f"reading the vCPU limit of host {host}", lambda: support.vcpu_limit(context, host), show)

    def _enter_storage(self) -> None:
        self._flag_missing_image()

    @on(Input.Changed, "#f-image")
    def _flag_missing_image(self) -> None:
        text = self._value("#f-image")
        note = support.image_note(text)
        self._set_note("#h-image", note)

    @on(Select.Changed, "#f-base")
    def _base_chosen(self, event: Select.Changed) -> None:
        if event.value is Select.NULL:
            self._set_note("#h-base", "")
            return
        overlay = support.overlay_path(self.app.context, self._value("#f-image"), self._value("#f-name"))
        self.query_one("#f-image", Input).value = str(overlay)
        self._set_note("#h-base", f"saving makes {overlay.name}, a qcow2 overlay of {Path(str(event.value)).name} (never over an existing file)")

    def chosen_base(self) -> Path | None:
        value = self.query_one("#f-base", Select).value
        return None if value is Select.NULL else Path(str(value))

    @on(Button.Pressed, "#browse")
    def _browse(self) -> None:
        from rfconsole.tui.screens.dialogs import FilePickerDialog

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.query_one("#f-image", Input).value = str(path)

        self.app.push_screen(FilePickerDialog(support.images_root(self.app.context), "Choose the image"), chosen)

    def _add_nic(self, nic: Interface | None) -> None:
        self.query_one("#nics").mount(NicRow(self.nic_count, nic))
        self.nic_count += 1

    @on(Button.Pressed, "#add-nic")
    def _add_nic_pressed(self) -> None:
        self._add_nic(None)

    @on(Button.Pressed, "#remove-nic")
    def _remove_nic_pressed(self) -> None:
        rows = list(self.query(NicRow))
        if rows:
            rows[-1].remove()
            self.nic_count -= 1
            self._set_note("#e-interfaces", "")  # its errors went with it; Next checks the others again

    def _enter_review(self) -> None:
        try:
            spec = self.build_spec()
        except InvalidSpec as invalid:
            self.show_problems(invalid.problems)
            return
        xml, problems = support.render_xml(spec)
        self.query_one("#review-xml", TextArea).text = xml
        verdict = self.query_one("#review-verdict", Label)
        notes = self.query_one("#review-notes", Static)
        notes.update("")
        if problems:
            verdict.update(f"✗ libvirt's schema finds {len(problems)} problem(s)")
            self.show_problems([Problem("xml", None, str(p)) for p in problems])
            return
        verdict.update(f"✓ {spec.name}: follows libvirt's domain schema · host {self.host()}")
        self.show_problems([])
        context, host, base = self.app.context, self.host(), self.chosen_base()
        self._ask_host("checking what saving would meet", lambda: support.review_check(context, spec, host, base), self._show_review)

    def _show_review(self, check: support.ReviewCheck) -> None:
        """Every problem the three save buttons would meet, before any is pressed."""
        lines = check.lines()
        if self.saved is not None:
            lines.append(f"• already saved to {self.app.context.workdir.shown(self.saved.path)}: a save now writes over it")
        self.query_one("#review-notes", Static).update("\n".join(lines) or "✓ nothing stands in the way of saving, defining or starting it")

    # ---- saving ----------------------------------------------------------------------------

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_finish(define=False, start=False)

    @on(Button.Pressed, "#save-define")
    def _save_define_pressed(self) -> None:
        self.action_finish(define=True, start=False)

    @on(Button.Pressed, "#save-start")
    def _save_start_pressed(self) -> None:
        self.action_finish(define=True, start=True)

    def action_finish(self, define: bool, start: bool) -> None:
        if self._wait_turn(f"finish({define}, {start})"):
            return
        self._check(len(STEPS) - 1, "checking the VM", lambda: self._before_saving(define, start))

    def _before_saving(self, define: bool, start: bool) -> None:
        """Ask the host what the save would meet; refuse (nothing written) what this button
        cannot do; ask before replacing the host's definition; then save."""
        spec, host, base, context = self.build_spec(), self.host(), self.chosen_base(), self.app.context

        def judged(check: support.ReviewCheck) -> None:
            self._show_review(check)
            refusals = check.refusals(define, start)
            if refusals:
                self.notify(f"nothing saved: {refusals[0]}", title="cannot do that yet", severity="error", timeout=10)
                return
            if not (define and check.replaces):
                self._save(spec, define, start, replace=False)
                return
            from rfconsole.tui.screens.dialogs import ConfirmDialog

            def answered(yes: bool | None) -> None:
                if yes:
                    self._save(spec, define, start, replace=True)

            self.app.push_screen(ConfirmDialog(
                f"Replace {spec.name} on host {host}?",
                f"Lost if you do: {check.replaces} (its definition: UUID, devices, settings). XML/ gets the new one.",
            ), answered)

        self._ask_host("checking what saving would meet", lambda: support.review_check(context, spec, host, base), judged)

    def _save(self, spec: DomainSpec, define: bool, start: bool, replace: bool) -> None:
        host, base, context, own = self.host(), self.chosen_base(), self.app.context, self.saved

        def job() -> support.Saved:
            return support.save_define_start(context, spec, host, define=define, start=start, base=base, replace=replace, own=own)

        def done(saved: support.Saved) -> None:
            if saved.problem is not None:
                self.saved = saved  # the next save writes over this file; leaving says it is there
                self.report_unsaved_work()
                self.app.report(saved.problem, f"{spec.name} saved to {saved.path.name}, but not " + ("defined" if define else "started"))
                if self.is_attached and self.step == len(STEPS) - 1:
                    self._enter_review()
                return
            what = "saved" + (", defined" if define else "") + (" and started" if start else "")
            self.app.notify(f"{spec.name} {what} ({saved.path.name})", timeout=4)
            if self.is_attached:
                self.pop_until_active()  # a dialog or the help opened meanwhile closes with it
                self.dismiss(WizardResult(spec.name, host, saved.path))

        self.app.run_in_background(f"saving {spec.name}", job, done)


def _given(value: Any) -> str:
    return str(getattr(value, "value", value))

