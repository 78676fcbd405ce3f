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


SECTIONS: dict[str, dict[str, str]] = {
    "Domains (home)": ACTIONS,
    "Table": TABLE_KEYS,
    "Wizard": WIZARD_KEYS,
    "XML view and editor": EDITOR_KEYS,
    "rftest2 bring-up": BRINGUP_KEYS,
}


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, current: str | None = None) -> None:
        """``current``: the section of the screen help was asked on, shown first (a key of SECTIONS)."""
        super().__init__(classes="dialog")
        self.current = current

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog-box"):
            yield Label("rfconsole: keys", classes="dialog-title")
            if self.current in SECTIONS:
                yield Static(_section(f"This screen: {self.current}", SECTIONS[self.current]), classes="help-section")
            for title, keys in SECTIONS.items():
                if title != self.current:
                    yield Static(_section(title, keys), classes="help-section")
            yield Label("escape: close", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
