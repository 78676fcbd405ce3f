"""rftest2's bring-up (the old console's flow): an XML for each of rfvmA–rfvmD, then deploy all four."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Header, Label, ProgressBar, Static

from rfconsole.tui import bringupsupport as support
from rfconsole.tui import keymap
from rfconsole.tui.background import in_background
from rfconsole.tui.context import console_app, opened
from rfconsole.tui.fleetview import SLOTS
from rfconsole.tui.widgets.keybar import KeyBar

STAGES = ("destroy", "undefine", "define", "start")


class BringUpScreen(Screen):
    KEYMAP = (keymap.BRINGUP,)
    BINDINGS = keymap.BRINGUP.bindings()

    def __init__(self) -> None:
        super().__init__()
        self.chosen: dict[str, Path | None] = {slot: None for slot in SLOTS}
        self.deploying = False
        self.reasons: dict[str, str] = {}  # slot -> the whole reason its deploy failed (r shows them)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("For each VM of rftest2 choose an XML from XML/ or make one with the wizard, then deploy all four "
                     "(destroy, undefine, define, start on its host).", classes="intro")
        with Grid(id="slots"):
            for number, slot in enumerate(SLOTS, start=1):
                yield Label(f"{number} {slot}", classes="slot-name")
                yield Label("(none)", id=f"xml-{slot}", classes="slot-xml")
                yield Button("Choose…", id=f"choose-{slot}", classes="slot-choose", compact=True)
                yield ProgressBar(total=len(STAGES), id=f"progress-{slot}", show_eta=False, show_percentage=False)
                yield Label("", id=f"result-{slot}", classes="slot-result")
        with Horizontal(classes="buttons"):
            yield Button("Deploy all four ^r", id="deploy", variant="success", compact=True)
            yield Button("Back", id="close", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "rftest2 bring-up"
        for slot, path in support.existing_choices(opened(self)).items():
            self._set_choice(slot, path)
        self.query_one(f"#choose-{SLOTS[0]}", Button).focus()

    def _set_choice(self, slot: str, path: Path | None) -> None:
        self.chosen[slot] = path
        self.query_one(f"#xml-{slot}", Label).update(path.name if path else "(none)")

    # ---- choosing --------------------------------------------------------------------------

    @on(Button.Pressed, ".slot-choose")
    def _choose_pressed(self, event: Button.Pressed) -> None:
        self.action_choose((event.button.id or "").removeprefix("choose-"))

    def action_choose(self, slot: str) -> None:
        from rfconsole.tui.screens.dialogs import NEW_WITH_WIZARD, XmlPickerDialog
        from rfconsole.tui.screens.wizard import WizardScreen

        def picked(choice: Path | str | None) -> None:
            if choice == NEW_WITH_WIZARD:
                self.app.push_screen(WizardScreen(slot=slot), lambda made: self._set_choice(slot, made.path) if made else None)
            elif choice is not None:
                name = next((entry.name for entry in entries if entry.path == Path(choice)), None)
                if name != slot:  # deploying it would redeploy another VM and report on the wrong one
                    self.notify(f"{Path(choice).name} defines {name}, not {slot}: not chosen. Choose {slot}'s own file, "
                                f"or make one with the wizard", title=f"XML for {slot}", severity="warning", timeout=8)
                    return
                self._set_choice(slot, Path(choice))

        entries = support.xml_entries(opened(self))
        self.app.push_screen(XmlPickerDialog(entries, f"XML for {slot}"), picked)

    # ---- deploying -------------------------------------------------------------------------

    @on(Button.Pressed, "#deploy")
    def action_deploy(self) -> None:
        missing = [slot for slot, path in self.chosen.items() if path is None]
        if missing:
            self.notify(f"choose an XML for {', '.join(missing)} first (1–4 or Choose…)", severity="warning")
            return
        if self.deploying:
            return
        context = opened(self)
        console_app(self).run_in_background("reading which rftest2 VMs the hosts have", lambda: support.defined_slots(context), self._confirm_deploy)

    def _confirm_deploy(self, replaced: list[str]) -> None:
        """Ask first when the deploy replaces VMs a host has defined (read on a worker: a libvirt call)."""
        from rfconsole.tui.screens.dialogs import ConfirmDialog

        if self.deploying or not self.is_attached:
            return
        if not replaced:
            self._start_deploy()
            return
        question = f"Redeploy {', '.join(replaced)} from the chosen files?"
        warning = "Each is powered off at once, undefined, defined again and started."

        def answered(yes: bool | None) -> None:
            if yes:
                self._start_deploy()

        self.app.push_screen(ConfirmDialog(question, warning), answered)

    def _start_deploy(self) -> None:
        self.deploying = True
        self.reasons = {}
        for slot in SLOTS:
            self.query_one(f"#progress-{slot}", ProgressBar).update(progress=0)
            self.query_one(f"#result-{slot}", Label).update("waiting")
        self.deploy()

    def deploy(self) -> None:
        def progress(slot: str, stage: str, done: int) -> None:
            self.app.call_from_thread(self._progress, slot, stage, done)

        def failed(error: BaseException) -> None:  # e.g. no host reachable
            console_app(self).report(error, "deploying rftest2")
            self._finished({})

        in_background(self, "deploying rftest2", lambda: support.deploy(opened(self), dict(self.chosen), progress),
                      self._finished, failed)

    def _progress(self, slot: str, stage: str, done: int) -> None:
        self.query_one(f"#progress-{slot}", ProgressBar).update(progress=done)
        self.query_one(f"#result-{slot}", Label).update(stage)

    def _finished(self, results: dict[str, Any]) -> None:
        self.deploying = False
        failed = 0
        for slot, outcome in results.items():
            label = self.query_one(f"#result-{slot}", Label)
            if isinstance(outcome, BaseException):
                failed += 1
                self.reasons[slot] = reason_words(outcome)
                label.update(Text(f"✗ failed (r: why) {getattr(outcome, 'message', outcome)}"))
                label.add_class("failed")
                label.tooltip = self.reasons[slot]
                console_app(self).report(outcome, f"deploying {slot}")
            else:
                label.update(Text(f"✓ {outcome}"))
                label.remove_class("failed")
                label.tooltip = None
                self.query_one(f"#progress-{slot}", ProgressBar).update(progress=len(STAGES))
        self.notify(f"rftest2: {len(results) - failed} of {len(results)} VMs running", severity="error" if failed else "information")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.app.pop_screen()

    def action_reasons(self) -> None:
        """Each failed VM's whole reason, kept after its notification faded."""
        if not self.reasons:
            self.notify("no VM failed to deploy", timeout=3)
            return
        self.app.push_screen(ReasonsDialog(self.reasons))


def reason_words(error: BaseException) -> str:
    """An error in full: its message (libvirt's own words in it) and the hint."""
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    hint = getattr(error, "hint", None)
    return message + (f"\nhint: {hint}" if hint else "")


class ReasonsDialog(ModalScreen[None]):
    """The whole reason of each failed VM of the bring-up, wrapped, nothing cut."""

    BINDINGS = [("escape,enter,r,q", "close", "Close")]
    DEFAULT_CSS = """
    ReasonsDialog { align: center middle; background: $background 60%; }
    ReasonsDialog #reasons { width: 90%; max-width: 110; height: auto; max-height: 90%; border: thick $error;
                             background: $surface; padding: 0 1; }
    ReasonsDialog .reason-slot { text-style: bold; margin-top: 1; }
    ReasonsDialog .reason { width: 100%; }
    """

    def __init__(self, reasons: dict[str, str]) -> None:
        super().__init__()
        self.reasons = dict(reasons)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="reasons"):
            for slot, words in self.reasons.items():
                yield Label(f"{slot}", classes="reason-slot")
                yield Static(words, classes="reason", markup=False)
            yield Static("escape or enter: close", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
