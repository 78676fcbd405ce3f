"""Migrate from the domains table: a dialog offers the other hosts, one button each; then
``Fleet.plan_migration`` and ``migrate`` (rfconsole/virt/migrate.py) run in a worker, as
``rfconsole migrate`` does, and say the result (time, downtime) or the refusal in a notification."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from rfconsole.tui import keymap
from rfconsole.tui.background import in_background
from rfconsole.tui.context import opened
from rfconsole.tui.styles import stylesheet_paths
from rfconsole.virt.migrate import MigrationDone, migrate


class MigrateDialog(ModalScreen["str | None"]):
    """Which host to move one VM to: a button per other host; escape cancels."""

    CSS_PATH = stylesheet_paths("dialogs.tcss")
    KEYMAP = (keymap.MIGRATE,)
    BINDINGS = keymap.MIGRATE.bindings()

    def __init__(self, name: str, host: str, hosts: list[str]) -> None:
        super().__init__(classes="dialog")
        self.vm = name
        self.host = host
        self.hosts = hosts

    def compose(self) -> ComposeResult:
        with Vertical(id="migrate", classes="dialog-box"):
            yield Label(f"Move {self.vm} from host {self.host} to:", id="question")
            yield Label("Live when it runs, its definition when it is shut off; its files must already be on the host "
                        "(rfconsole copies no storage).", id="warning")
            with Horizontal(classes="buttons"):
                for index, host in enumerate(self.hosts):
                    yield Button(host, id=f"host-{index}", variant="primary")
                yield Button("Cancel (escape)", id="no")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        self.dismiss(self.hosts[int(button.removeprefix("host-"))] if button.startswith("host-") else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def ask_migrate(screen: Any, target: Any) -> None:
    """Ask where to move ``target`` (a row of the table), then migrate in a worker."""
    fleet = opened(screen).fleet
    others = [state.name for state in fleet.host_states() if state.name != target.host]
    if not others:
        screen.notify(f"there is no other host to move {target.name} to: add one to [hosts] in rfconsole.toml", severity="warning")
        return

    def chosen(host: str | None) -> None:
        if host is not None:
            screen.notify(f"migrating {target.name} to host {host}…", timeout=4)
            in_background(screen, f"migrate {target.name} to host {host}",
                          lambda: migrate(fleet.plan_migration(target.name, host)), lambda done: _migrated(screen, done))

    screen.app.push_screen(MigrateDialog(target.name, target.host, others), chosen)


def _migrated(screen: Any, done: MigrationDone) -> None:
    screen.notify(str(done), timeout=8)
    point_at = getattr(screen, "point_at", None)
    if point_at is not None:
        point_at(done.plan.name, done.plan.target.name)
