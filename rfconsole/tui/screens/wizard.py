"""The new-VM wizard: steps in view, back and next, each step checked by the model before the next.

The steps are widgets whose fields come from the binding table (tui/widgets/wizardsteps.py); this
screen moves between them, places each problem the model finds beside its field, and saves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, ContentSwitcher, Header, Input, Label, RadioSet

from rfconsole.errors import RfconsoleError
from rfconsole.model import spec as models
from rfconsole.model.errors import InvalidSpec, Problem
from rfconsole.model.kinds import Hypervisor
from rfconsole.tui import keymap
from rfconsole.tui import wizardsupport as support
from rfconsole.tui.context import ConsoleContext, console_app, opened
from rfconsole.tui.styles import stylesheet_paths
from rfconsole.tui.unsaved import HoldsWork
from rfconsole.tui.widgets import wizardpanes as panes
from rfconsole.tui.widgets.keybar import KeyBar
from rfconsole.tui.widgets.wizardfields import problem_lines
from rfconsole.tui.widgets.wizardquestions import AsksHost
from rfconsole.tui.widgets.wizardsteps import OsStep, ResourcesStep, Step, WizardStep

STEP_KINDS = (panes.TargetStep, panes.HypervisorStep, panes.IdentityStep, OsStep, ResourcesStep, panes.StorageStep, panes.NetworkStep,
              panes.ReviewStep)
STEPS: tuple[Step, ...] = tuple(kind.STEP for kind in STEP_KINDS)


def step_of(problem_field: str) -> int:
    """The step that shows a problem of this field (the table as it is now); the review for any other."""
    root = problem_field.split(".")[0]
    return next((index for index, step in enumerate(STEPS) if root in step.fields), len(STEPS) - 1)


@dataclass(frozen=True)
class WizardResult:
    """What the wizard made: the screen that opened it gets this through its dismiss callback."""

    name: str
    host: str | None
    path: Path


class WizardScreen(HoldsWork, AsksHost["WizardResult | None"]):
    CSS_PATH = stylesheet_paths("wizard.tcss")
    KEYMAP = (keymap.WIZARD,)
    BINDINGS = keymap.WIZARD.bindings()

    def __init__(self, slot: str | None = None) -> None:
        super().__init__()
        self.step = 0
        self.preset_slot = slot
        self.touched = False  # the user went past the first step or chose another target: leaving asks
        self.saved: support.Saved | None = None  # saved to XML/ already, its define or start refused

    @property
    def context(self) -> ConsoleContext:
        return opened(self)

    def compose(self) -> ComposeResult:
        self.target_step, self.hypervisor_step = panes.TargetStep(self, self.preset_slot), panes.HypervisorStep(self)
        self.storage, self.network, self.review = panes.StorageStep(self), panes.NetworkStep(self), panes.ReviewStep(self)
        self.steps = (self.target_step, self.hypervisor_step, panes.IdentityStep(self, self.network), OsStep(self),
                      ResourcesStep(self), self.storage, self.network, self.review)
        yield Header()
        yield Horizontal(*(Label(f"{index + 1} {step.title}", id=f"step-{step.id}", classes="step") for index, step in enumerate(STEPS)), id="steps")
        yield ContentSwitcher(*self.steps, initial="pane-target", id="panes")
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
        last = len(STEPS) - 1
        return {"finish": self.step == last, "next": self.step < last, "back": self.step > 0}.get(action, True)

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
            self.steps[index].enter()
        except RfconsoleError as error:  # e.g. the host's capabilities cannot be read
            console_app(self).report(error, f"preparing the {STEPS[index].title} step")
        focusable = [w for w in self.steps[index].query("Input, Select, RadioSet, Checkbox, TextArea") if w.focusable and w.display]
        if focusable:
            focusable[0].focus()

    # ---- values ----------------------------------------------------------------------------

    def target(self) -> str:
        return self.target_step.target()

    def host(self) -> str | None:
        return self.target_step.host()

    def hypervisor(self) -> Hypervisor | None:
        return self.hypervisor_step.hypervisor()

    def chosen_base(self) -> Path | None:
        return self.storage.chosen_base()

    def _field_step(self, key: str) -> WizardStep:
        return next(step for step in self.steps if isinstance(step, WizardStep) and step.owns(key))

    def text(self, key: str) -> str:
        """A field as typed (stripped), whichever step asks for it."""
        return self._field_step(key).text(key)

    def set_text(self, key: str, text: str) -> None:
        self._field_step(key).set_text(key, text)

    def collected(self) -> dict[str, Any]:
        """The spec's fields as typed so far (text; the model converts and judges), under the table's keys."""
        return {key: value for step in self.steps for key, value in step.values().items()}

    def build_spec(self) -> models.DomainSpec:
        """The DomainSpec of everything typed (raises InvalidSpec with per-field problems)."""
        values = self.collected()
        if values["hypervisor"] is None:
            raise InvalidSpec([Problem("hypervisor", None, "choose a hypervisor this host offers")])
        return models.DomainSpec(**values)  # the table's model as it is now; problems as interfaces.0.mac, kernel_boot.kernel

    def typed(self) -> support.Typed:
        """What the steps hold now, read here on the UI thread for a check on a worker."""
        invalid: tuple[Problem, ...]
        try:
            spec, invalid = self.build_spec(), ()
        except InvalidSpec as error:
            spec, invalid = None, tuple(error.problems)
        own = self.saved.path if self.saved is not None else None
        return support.Typed(self.host(), self.hypervisor(), self.target() == panes.NEW_VM, spec, invalid, own)

    def _check(self, index: int, doing: str, then: Callable[[], None]) -> None:
        """Check the steps up to ``index`` off the UI thread; with no problem, ``then()``; else show
        each problem beside its field, on the first step that has one."""
        context, typed = self.context, self.typed()

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

        self.ask_host(doing, problems, judged)

    def show_problems(self, problems: list[Problem]) -> None:
        """Each problem beside the field it names (nested fields under their parent's row)."""
        labels = {(label.id or "").removeprefix("e-"): label for label in self.query(".field-error").results(Label)}
        by_field = problem_lines(problems, labels, "xml")
        for field, label in labels.items():
            lines = by_field.get(field, [])
            label.update("\n".join(lines))
            label.display = bool(lines)

    def action_next(self) -> None:
        if self.wait_turn("next") or self.step >= len(STEPS) - 1:
            return
        self.touched = True
        self.report_unsaved_work()
        index = self.step
        self._check(index, "checking this step", lambda: self._show_step(index + 1))

    def action_back(self) -> None:
        if self.wait_turn("back"):
            return
        if self.step > 0:
            self.show_problems([])
            self._show_step(self.step - 1)

    @on(Button.Pressed, "#next, #back")
    def _next_or_back_pressed(self, event: Button.Pressed) -> None:
        self.action_next() if event.button.id == "next" else self.action_back()

    def unsaved_work(self) -> str | None:
        """What leaving would drop, in words; None when the user has not filled anything in."""
        if not self.touched:
            return None
        name = self.text("name") or self.target()
        if self.saved is not None:
            return (f"the wizard: the fields of the VM {name} (saved to {self.context.workdir.shown(self.saved.path)}, "
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

    # ---- saving ----------------------------------------------------------------------------

    @on(Button.Pressed, "#save, #save-define, #save-start")
    def _save_pressed(self, event: Button.Pressed) -> None:
        self.action_finish(define=event.button.id != "save", start=event.button.id == "save-start")

    def action_finish(self, define: bool, start: bool) -> None:
        if self.wait_turn(f"finish({define}, {start})"):
            return
        self._check(len(STEPS) - 1, "checking the VM", lambda: self._before_saving(define, start))

    def _before_saving(self, define: bool, start: bool) -> None:
        """Ask the host what the save would meet; refuse (nothing written) what this button
        cannot do; ask before replacing the host's definition; then save."""
        spec, host, base, context = self.build_spec(), self.host(), self.chosen_base(), self.context

        def judged(check: support.ReviewCheck) -> None:
            self.review.show_check(check)
            refusals = check.refusals(define, start)
            if refusals:
                self.notify(f"nothing saved: {refusals[0]}", title="cannot do that yet", severity="error", timeout=10)
            elif not (define and check.replaces):
                self._save(spec, define, start, replace=False)
            else:
                from rfconsole.tui.screens.dialogs import ConfirmDialog

                def answered(yes: bool | None) -> None:
                    if yes:
                        self._save(spec, define, start, replace=True)

                self.app.push_screen(ConfirmDialog(
                    f"Replace {spec.name} on host {host}?",
                    f"Lost if you do: {check.replaces} (its definition: UUID, devices, settings). XML/ gets the new one.",
                ), answered)

        self.ask_host("checking what saving would meet", lambda: support.review_check(context, spec, host, base), judged)

    def _save(self, spec: models.DomainSpec, define: bool, start: bool, replace: bool) -> None:
        host, base, context, own = self.host(), self.chosen_base(), self.context, self.saved
        job = partial(support.save_define_start, context, spec, host, define=define, start=start, base=base, replace=replace, own=own)

        def done(saved: support.Saved) -> None:
            if saved.problem is not None:
                self.saved = saved  # the next save writes over this file; leaving says it is there
                self.report_unsaved_work()
                console_app(self).report(saved.problem, f"{spec.name} saved to {saved.path.name}, but not " + ("defined" if define else "started"))
                if self.is_attached and self.step == len(STEPS) - 1:
                    self.review.enter()
                return
            what = "saved" + (", defined" if define else "") + (" and started" if start else "")
            self.app.notify(f"{spec.name} {what} ({saved.path.name})", timeout=4)
            if self.is_attached:
                self.pop_until_active()  # a dialog or the help opened meanwhile closes with it
                self.dismiss(WizardResult(spec.name, host, saved.path))

        console_app(self).run_in_background(f"saving {spec.name}", job, done)
