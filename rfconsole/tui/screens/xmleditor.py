"""The XML of a domain or a file: highlighted, checked as you type, diffed against libvirt, saved atomically."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Label, Static, TextArea

from rfconsole.errors import RfconsoleError
from rfconsole.model.xmldiff import comparable
from rfconsole.tui import keymap, xmlsupport
from rfconsole.tui.background import in_background
from rfconsole.tui.context import console_app, opened
from rfconsole.tui.styles import stylesheet_paths
from rfconsole.tui.unsaved import HoldsWork
from rfconsole.tui.widgets.keybar import KeyBar

CHECK_DELAY = 0.25  # seconds of quiet typing before the XML is checked again


class XmlScreen(HoldsWork, Screen):
    CSS_PATH = stylesheet_paths("xml.tcss")
    KEYMAP = (keymap.EDITOR,)
    BINDINGS = keymap.EDITOR.bindings()

    def __init__(self, name: str | None = None, *, host: str | None = None, path: Path | None = None, editable: bool = False) -> None:
        super().__init__()
        self.domain_name = name
        self.host = host
        self.path = path
        self.editable = editable
        self.problems: list[str] = []
        self.saved_text = ""
        self.version: str | None = None  # what the file held when read or last saved
        self.live_text: str | None = None
        self._check_timer: Any = None
        self.diff_text = ""
        self._warned_unsaved = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="xml-source")
        with Vertical(id="xml-body"):
            area = TextArea("", id="xml-text", language="xml", read_only=not self.editable, show_line_numbers=True, tab_behavior="indent")
            area.cursor_blink = self.editable
            yield area
            with VerticalScroll(id="xml-diff"):
                yield Static("", id="xml-diff-text")
        yield Label("", id="xml-problems")
        yield KeyBar()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.editable if action == "save" else True

    def on_mount(self) -> None:
        self.query_one("#xml-diff").display = False
        self.sub_title = ("Edit " if self.editable else "XML of ") + (self.domain_name or str(self.path))
        self.load()

    def load(self) -> None:
        doing = f"reading the XML of {self.domain_name or self.path}"

        def failed(error: BaseException) -> None:
            console_app(self).report(error, doing)
            self._loaded(None)

        in_background(self, doing, lambda: xmlsupport.open_xml(opened(self), self.domain_name, self.host, self.path),
                      self._loaded, failed, group="load")

    def _loaded(self, source: xmlsupport.XmlSource | None) -> None:
        if source is None:
            if self.editable:
                self.app.pop_screen()
            return
        self.path = source.path
        self.live_text = source.live_text
        self.saved_text = source.text
        self.version = source.version
        where = f"file {source.path}" if source.path else f"libvirt's live definition on host {self.host} (no file in XML/)"
        self.query_one("#xml-source", Label).update(Text(where))
        area = self.query_one("#xml-text", TextArea)
        area.load_text(source.text)
        if self.editable and source.path is None and self.domain_name is not None:
            self.path = xmlsupport.default_path(opened(self), self.domain_name)
            self.query_one("#xml-source", Label).update(Text(f"libvirt's live definition on host {self.host}; saving writes {self.path}"))
        area.focus()
        self.check_now()

    # ---- checking as you type ---------------------------------------------------------------

    @on(TextArea.Changed, "#xml-text")
    def _changed(self) -> None:
        self.report_unsaved_work()
        if self._check_timer is not None:
            self._check_timer.stop()
        self._check_timer = self.set_timer(CHECK_DELAY, self.check_now)

    def check_now(self) -> None:
        text = self.query_one("#xml-text", TextArea).text
        self.problems = xmlsupport.problems_in(text, self.domain_name)
        label = self.query_one("#xml-problems", Label)
        label.set_class(bool(self.problems), "has-errors")
        if self.problems:
            shown = self.problems[:4] + ([f"… and {len(self.problems) - 4} more"] if len(self.problems) > 4 else [])
            label.update("\n".join(f"✗ {p}" for p in shown))
        else:
            dirty = text != self.saved_text
            label.update("✓ valid: follows libvirt's domain schema" + (" · unsaved changes (ctrl+s)" if dirty else ""))

    # ---- actions ---------------------------------------------------------------------------

    def action_save(self) -> None:
        if not self.editable:
            self.notify("this view is read-only: press e on the domain to edit its XML", severity="warning")
            return
        self.check_now()
        if self.problems:
            self.notify(f"not saved: {len(self.problems)} problem(s) in the XML, first: {self.problems[0]}", severity="error", timeout=6)
            return
        text = self.query_one("#xml-text", TextArea).text
        try:
            path, self.version = xmlsupport.save(opened(self), text, self.path, self.version)
        except RfconsoleError as error:
            console_app(self).report(error, "saving the XML")
            return
        self.saved_text = text
        self.path = path
        self.query_one("#xml-source", Label).update(Text(f"file {path}"))
        self.notify(f"saved {path} (the previous version kept as a backup)", timeout=4)
        self.report_unsaved_work()
        self.check_now()

    def action_diff(self) -> None:
        diff = self.query_one("#xml-diff")
        if diff.display:
            diff.display = False
            return
        text = self.query_one("#xml-text", TextArea).text
        if self.live_text is None:
            self.diff_text = f"{self.domain_name or self.path} is not defined on host {self.host}: nothing to compare with"
            self.query_one("#xml-diff-text", Static).update(self.diff_text)
        else:
            pair = comparable(self.live_text, text)
            lines = list(difflib.unified_diff(pair.live.splitlines(), pair.file.splitlines(), "libvirt (live)", "XML/ file", lineterm=""))
            defaults = (f"\n(left out: {pair.left_out} element{'s' if pair.left_out != 1 else ''} libvirt filled in that the file does not set)"
                        if pair.left_out else "")
            self.diff_text = ("\n".join(lines) if lines else "no difference: the file and libvirt's live definition say the same") + defaults
            self.query_one("#xml-diff-text", Static).update(Syntax(self.diff_text, "diff", theme="ansi_dark", word_wrap=True))
        diff.display = True

    def unsaved_work(self) -> str | None:
        """What quitting would drop, in words; None when the text is as saved (or read-only)."""
        if not self.editable or not self.is_mounted or self.query_one("#xml-text", TextArea).text == self.saved_text:
            return None
        return f"the XML editor: unsaved changes to {self.domain_name or 'the XML'} ({opened(self).workdir.shown(self.path) if self.path else 'not saved yet'})"

    def action_close(self) -> None:
        """Close; with unsaved changes, the first escape only says so and the second drops them."""
        if self.unsaved_work() and not self._warned_unsaved:
            self._warned_unsaved = True
            what = self.domain_name or self.path
            self.notify(f"unsaved changes in {what}: ctrl+s saves them, escape again drops them", severity="warning", timeout=6)
            return
        self.app.pop_screen()
