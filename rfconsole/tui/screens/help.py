"""Every key of the console, read from the keymap."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from rfconsole.tui.keymap import HELP, SECTIONS, Section
from rfconsole.tui.styles import stylesheet_paths


def _section(title: str, section: Section, read_only: bool) -> str:
    width = max(len(key.written) for key in section.keys)
    lines = [f"[b]{title}[/b]"] + [
        f"  [b $accent]{escape(key.written.ljust(width))}[/]  {escape(key.help)}"
        + (" [i](off: read-only session)[/i]" if read_only and key.changes else "")
        for key in section.keys
    ]
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    CSS_PATH = stylesheet_paths("dialogs.tcss")
    KEYMAP = (HELP,)
    BINDINGS = HELP.bindings()

    def __init__(self, current: tuple[Section, ...] = (), *, read_only: bool = False) -> None:
        """``current``: the keymap sections of the screen help was asked on, shown first;
        ``read_only``: the session's changing keys are marked off."""
        super().__init__(classes="dialog")
        self.current = current
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog-box"):
            yield Label("rfconsole: keys" + (" (read-only session: it changes nothing)" if self.read_only else ""),
                        classes="dialog-title")
            for section in self.current:
                yield Static(_section(f"This screen: {section.title}", section, self.read_only), classes="help-section")
            for section in SECTIONS:
                if section not in self.current:
                    yield Static(_section(section.title, section, self.read_only), classes="help-section")
            yield Label("escape: close", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
