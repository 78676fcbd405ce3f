"""Every key of the console, read from the keymap."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from rfconsole.tui.keymap import ACTIONS, BRINGUP_KEYS, EDITOR_KEYS, TABLE_KEYS, WIZARD_KEYS


def _section(title: str, keys: dict[str, str]) -> str:
    width = max(len(key) for key in keys)
    lines = [f"[b]{title}[/b]"] + [f"  [b $accent]{key.ljust(width)}[/]  {text}" for key, text in keys.items()]
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self) -> None:
        super().__init__(classes="dialog")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog-box"):
            yield Label("rfconsole: keys", classes="dialog-title")
            yield Static(_section("Domains (home)", ACTIONS))
            yield Static(_section("Table", TABLE_KEYS))
            yield Static(_section("Wizard", WIZARD_KEYS))
            yield Static(_section("XML view and editor", EDITOR_KEYS))
            yield Static(_section("rftest2 bring-up", BRINGUP_KEYS))
            yield Label("escape: close", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
