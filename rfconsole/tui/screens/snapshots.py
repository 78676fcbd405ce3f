"""The snapshots of one domain: take one, revert to one, delete one (rfconsole/virt/snapshots.py
through Fleet). Reverting and deleting ask first, naming the domain, its host, the snapshot and
what is lost."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, Static

from rfconsole.tui import keymap
from rfconsole.tui.background import in_background
from rfconsole.tui.context import console_app, opened
from rfconsole.tui.styles import stylesheet_paths
from rfconsole.tui.widgets.keybar import KeyBar

COLUMNS = ("", "Snapshot", "Taken (UTC)", "State when taken", "Memory", "Description")


class SnapshotsScreen(Screen):
    CSS_PATH = stylesheet_paths("dialogs.tcss")
    KEYMAP = (keymap.SNAPSHOTS,)
    BINDINGS = keymap.SNAPSHOTS.bindings()

    def __init__(self, domain: str, host: str) -> None:
        super().__init__()
        self.domain = domain
        self.host = host
        self.snapshots: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Snapshots of {self.domain} on host {self.host} (* the current one: the last taken or reverted to)", classes="intro")
        yield DataTable(id="snapshots", cursor_type="row", zebra_stripes=True)
        yield Label("", id="snapshots-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = f"snapshots of {self.domain}"
        self.query_one(DataTable).add_columns(*COLUMNS)
        self.reload()

    def reload(self) -> None:
        in_background(self, f"list the snapshots of {self.domain}",
                      lambda: opened(self).fleet.snapshot_list(self.domain, host=self.host), self._show,
                      group="snapshots", exclusive=True)

    def _show(self, found: list[Any]) -> None:
        self.snapshots = found
        table = self.query_one(DataTable)
        table.clear()
        for info in found:
            taken = info.created.strftime("%Y-%m-%d %H:%M:%S") if info.created else "?"
            table.add_row("*" if info.current else "", info.name, taken, info.state, "yes" if info.memory else "no",
                          info.description or "", key=info.name)
        self.query_one("#snapshots-status", Label).update(f"{len(found)} snapshot{'s' if len(found) != 1 else ''}")
        table.focus()

    def selected(self) -> Any | None:
        table = self.query_one(DataTable)
        if not self.snapshots or table.cursor_row is None or not 0 <= table.cursor_row < len(self.snapshots):
            return None
        return self.snapshots[table.cursor_row]

    # ---- actions ---------------------------------------------------------------------------

    def action_take(self) -> None:
        self._perform(f"snapshot {self.domain} on {self.host}", lambda fleet: fleet.snapshot_create(self.domain, host=self.host))

    def action_revert(self) -> None:
        chosen = self.selected()
        if chosen is None:
            self.notify(f"{self.domain} has no snapshot to revert to", severity="warning")
            return
        self._confirm(
            f"Revert {self.domain} on host {self.host} to snapshot {chosen.name}?",
            f"Everything {self.domain} wrote since {chosen.name} was taken is lost, and its running state; "
            f"it will be {'running' if chosen.state == 'running' else chosen.state} as it was then.",
            lambda fleet: fleet.snapshot_revert(self.domain, chosen.name, host=self.host, force=True),
        )

    def action_delete(self) -> None:
        chosen = self.selected()
        if chosen is None:
            self.notify(f"{self.domain} has no snapshot to delete", severity="warning")
            return
        self._confirm(
            f"Delete snapshot {chosen.name} of {self.domain} on host {self.host}?",
            f"The snapshot is lost (it can no longer be reverted to); {self.domain} itself is not changed.",
            lambda fleet: fleet.snapshot_delete(self.domain, chosen.name, host=self.host, force=True),
        )

    def action_close(self) -> None:
        self.dismiss(None)

    def _confirm(self, question: str, warning: str, call: Any) -> None:
        from rfconsole.tui.screens.dialogs import ConfirmDialog

        def answered(yes: bool | None) -> None:
            if yes:
                self._perform(question, call)

        self.app.push_screen(ConfirmDialog(question, warning), answered)

    def _perform(self, doing: str, call: Any) -> None:
        def done(message: str) -> None:
            self.notify(message, timeout=6)
            self.reload()

        def failed(error: BaseException) -> None:
            console_app(self).report(error, doing)
            self.reload()

        in_background(self, doing, lambda: call(opened(self).fleet), done, failed, group="snapshot-operations")
