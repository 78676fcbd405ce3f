"""Clone from the domains table: a dialog asks the new name (a free one suggested), then
``Fleet.clone`` writes the new VM into XML/ in a worker; the result is a notification."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from rfconsole.model.clone import suggest_clone_name
from rfconsole.tui import keymap
from rfconsole.tui.styles import stylesheet_paths


class CloneDialog(ModalScreen["str | None"]):
    """The new name for a clone of one domain; enter clones, escape cancels."""

    CSS_PATH = stylesheet_paths("dialogs.tcss")
    KEYMAP = (keymap.CLONE,)
    BINDINGS = keymap.CLONE.bindings()

    def __init__(self, source: str, host: str, suggestion: str) -> None:
        super().__init__(classes="dialog")
        self.source = source
        self.host = host
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        with Vertical(id="clone", classes="dialog-box"):
            yield Label(f"Clone {self.source} (host {self.host}) as:", id="question")
            yield Input(self.suggestion, id="clone-name")
            yield Label(
                "XML/<name>.xml with a new id, new MACs and NIC names, and its own overlay of the base; "
                f"{self.source} itself is not changed. Start it with s.",
                id="warning",
            )
            with Horizontal(classes="buttons"):
                yield Button("Clone (enter)", id="yes", variant="primary")
                yield Button("Cancel (escape)", id="no")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.query_one(Input).value.strip() or None if event.button.id == "yes" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def ask_clone(screen: Any, target: Any) -> None:
    """Ask for the clone's name over the domains screen, then clone in a worker."""
    context = screen.app.context
    taken = {entry.name for entry in context.store.entries()} | {status.name for status in screen.app.context.fleet.statuses()}

    def named(new: str | None) -> None:
        if new:
            _clone(screen, target, new)

    screen.app.push_screen(CloneDialog(target.name, target.host, suggest_clone_name(target.name, taken)), named)


def _clone(screen: Any, target: Any, new: str) -> None:
    app = screen.app

    def run() -> None:
        doing = f"clone {target.name} as {new}"
        try:
            message = app.context.fleet.clone(target.name, new)
        except Exception as error:  # noqa: BLE001 - the refusal as a notification, never a crash
            app.call_from_thread(app.report, error, doing)
        else:
            app.call_from_thread(screen.notify, message, timeout=8)

    screen.run_worker(run, thread=True, group="operations", exit_on_error=False, name=f"clone {new}")
