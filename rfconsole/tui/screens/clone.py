"""Clone from the domains table: a dialog asks the new name (a free one suggested) and, when
rfconsole.toml names RouteFlow's CSV, whether to add the clone's rows to it; then
``Fleet.clone`` writes the new VM into XML/ in a worker; the result is a notification."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label

from rfconsole.model.clone import check_clone_name, suggest_clone_name
from rfconsole.model.errors import InvalidSpec
from rfconsole.model.rftest2 import rftest2_naming
from rfconsole.tui import keymap
from rfconsole.tui.background import in_background
from rfconsole.tui.context import opened
from rfconsole.tui.styles import stylesheet_paths
from rfconsole.virt.events import Outcome


@dataclass(frozen=True)
class CloneChoice:
    name: str
    add_rows: bool  # append its rows to RouteFlow's CSV (rfconsole.toml's routeflow_config)


class CloneDialog(ModalScreen["CloneChoice | None"]):
    """The new name for a clone of one domain (and, with a RouteFlow CSV, whether to add its rows);
    enter clones, escape cancels."""

    CSS_PATH = stylesheet_paths("dialogs.tcss")
    KEYMAP = (keymap.CLONE,)
    BINDINGS = keymap.CLONE.bindings()

    def __init__(self, source: str, host: str, suggestion: str, routeflow_config: Path | None = None,
                 taken: frozenset[str] = frozenset()) -> None:
        super().__init__(classes="dialog")
        self.source = source
        self.host = host
        self.suggestion = suggestion
        self.routeflow_config = routeflow_config
        self.taken = taken  # names already in XML/ or on a host

    def compose(self) -> ComposeResult:
        with Vertical(id="clone", classes="dialog-box"):
            yield Label(f"Clone {self.source} (host {self.host}) as:", id="question")
            yield Input(self.suggestion, id="clone-name")
            yield Label("", id="clone-error")  # why the name typed cannot be used: the dialog stays open
            yield Label(
                "XML/<name>.xml with a new id, new MACs and NIC names, and its own overlay of the base; "
                f"{self.source} itself is not changed. Start it with s.",
                id="warning",
            )
            if self.routeflow_config is not None:
                yield Checkbox(f"Add its rows to RouteFlow's CSV {self.routeflow_config} (rfvmE, rfvmF: rftest2's switch)", True, id="clone-rows")
            with Horizontal(classes="buttons"):
                yield Button("Clone (enter)", id="yes", variant="primary")
                yield Button("Cancel (escape)", id="no")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _name_problem(self, name: str) -> str | None:
        try:
            check_clone_name(name)
        except InvalidSpec as error:
            return "; ".join(problem.message for problem in error.problems)
        if name in self.taken:
            return f"{name} already exists (in XML/ or on a host): choose another name"
        return None

    def _clone_if_valid(self) -> None:
        """Dismissed only with a name that can be used; otherwise the reason shows under the field."""
        name = self.query_one(Input).value.strip()
        problem = self._name_problem(name)
        if problem is not None:
            self.query_one("#clone-error", Label).update(Text(f"✗ {problem}"))
            self.query_one(Input).focus()
            return
        add_rows = self.routeflow_config is not None and self.query_one("#clone-rows", Checkbox).value
        self.dismiss(CloneChoice(name, add_rows))

    @on(Input.Changed)
    def _typed(self, _event: Input.Changed) -> None:
        self.query_one("#clone-error", Label).update("")

    @on(Input.Submitted)
    def _submitted(self, _event: Input.Submitted) -> None:
        self._clone_if_valid()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "yes":
            self._clone_if_valid()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def ask_clone(screen: Any, target: Any) -> None:
    """Ask for the clone's name over the domains screen, then clone in a worker."""
    context = opened(screen)
    taken = {entry.name for entry in context.store.entries()} | {status.name for status in opened(screen).fleet.statuses()}

    routeflow_config = context.config.ondemand.routeflow_config

    def named(choice: CloneChoice | None) -> None:
        if choice is not None:
            _clone(screen, target, choice.name, routeflow_config if choice.add_rows else None)

    screen.app.push_screen(CloneDialog(target.name, target.host, suggest_clone_name(target.name, taken), routeflow_config,
                                       frozenset(taken)), named)


def _clone(screen: Any, target: Any, new: str, routeflow_config: Path | None) -> None:
    """Clone in a worker; its rows go to ``routeflow_config`` when rftest2's naming says which
    switch the clone serves (a name of the user's own has none: the CLI's --datapath-id gives it)."""
    app = screen.app
    known_switch = rftest2_naming(new) is not None

    def cloned(outcome: Outcome) -> None:
        message = str(outcome)
        if routeflow_config is not None and not known_switch:
            message += (f"; its rows were not added to {routeflow_config}: which switch {new} serves is not known "
                        f"(on the command line: rfconsole clone … --routeflow-config CSV --datapath-id ID)")
        screen.notify(message, timeout=8)

    in_background(screen, f"clone {target.name} as {new}",
                  lambda: app.context.fleet.clone(target.name, new, routeflow_config=routeflow_config if known_switch else None),
                  cloned)
