"""A VM's own console inside rfconsole: a terminal emulator fed by the domain's console stream
(rfconsole/virt/console.py, in follow mode: it reattaches by itself after a reboot or redeploy).

Each open console is an installed screen of the app (``console:<host>/<name>``): ctrl+] goes back
to the table while the stream stays open, `v` on the same row comes back to it, and several
consoles can be open at once (F3 goes to the next). What the user types goes to the guest; only
the keys of keymap.CONSOLE (and F1, ctrl+q) stay with rfconsole.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Label

from rfconsole.tui import keymap
from rfconsole.tui.background import in_background
from rfconsole.tui.styles import stylesheet_paths
from rfconsole.tui.widgets.keybar import KeyBar
from rfconsole.tui.widgets.terminal import TerminalView

SCREEN_PREFIX = "console:"
NOT_SENT = "(keys are not sent while detached)"


def screen_name(host: str, name: str) -> str:
    return f"{SCREEN_PREFIX}{host}/{name}"


_OPEN: weakref.WeakKeyDictionary[Any, list[VmConsoleScreen]] = weakref.WeakKeyDictionary()  # app -> its consoles


def open_consoles(app: Any) -> list[VmConsoleScreen]:
    """The console screens the app holds, in the order they were opened."""
    return list(_OPEN.get(app, ()))


def show_console(app: Any, name: str, host: str, force: bool = False) -> None:
    """Go to VM ``name``'s console on ``host``: the one already open, else attach a new one (in
    the background; problems become notifications, a held console asks before taking it over)."""
    installed = screen_name(host, name)
    if app.is_screen_installed(installed):
        app.push_screen(installed)
        return
    _attach(app, name, host, force)


class VmConsoleScreen(Screen):
    CSS_PATH = stylesheet_paths("vm.tcss")
    KEYMAP = (keymap.CONSOLE,)
    BINDINGS = keymap.CONSOLE.bindings()

    class Output(Message):
        """New output is waiting in the screen's buffer (posted from libvirt's thread)."""

    class Notice(Message):
        def __init__(self, notice: Any) -> None:
            super().__init__()
            self.notice = notice

    def __init__(self, name: str, host: str) -> None:
        super().__init__(name=screen_name(host, name))
        self.vm = name
        self.host_name = host
        self.console: Any = None
        self._pending = bytearray()
        self._pending_lock = threading.Lock()
        self._posted = False
        self._state_words = "attaching…"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="console-status")
        yield TerminalView(self._send, id="terminal")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = f"console of {self.vm} on {self.host_name}"
        self._show_status()
        self.query_one(TerminalView).focus()
        self._flush_output()

    def on_screen_resume(self) -> None:
        self.query_one(TerminalView).focus()

    # ---- the stream, from libvirt's thread --------------------------------------------------

    def output_from_libvirt(self, data: bytes) -> None:
        with self._pending_lock:
            self._pending += data
            if self._posted:
                return
            self._posted = True
        self.post_message(self.Output())  # thread-safe: Textual queues it for the UI thread

    def notice_from_libvirt(self, notice: Any) -> None:
        self.post_message(self.Notice(notice))

    def on_vm_console_screen_output(self, _message: Output) -> None:
        self._flush_output()

    def _flush_output(self) -> None:
        with self._pending_lock:
            data, self._pending = bytes(self._pending), bytearray()
            self._posted = False
        if data and self.is_mounted:
            self.query_one(TerminalView).feed(data)
        elif data:
            with self._pending_lock:
                self._pending[:0] = data

    def on_vm_console_screen_notice(self, message: Notice) -> None:
        notice = message.notice
        self._state_words = notice.message
        self._show_status()
        if notice.problem:
            self.app.notify(notice.message, title=f"console of {self.vm}", severity="error", timeout=6)
        else:
            self.app.notify(notice.message, title=f"console of {self.vm}", timeout=6,
                            severity="information" if notice.state.value == "attached" else "warning")

    # ---- keys to the guest ------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        console = self.console
        if (console is None or not console.send(data)) and not self._state_words.startswith(NOT_SENT):
            self._state_words = f"{NOT_SENT} {self._state_words}"
            self._show_status()

    def _show_status(self) -> None:
        labels = self.query("#console-status")
        if not labels:
            return  # not composed yet: on_mount shows it
        state = self.console.state.value if self.console is not None else "attaching"
        labels.first(Label).update(Text(f"[{state}] {self._state_words}"))  # Text: "[attached]" is words, not markup

    def attached(self, console: Any) -> None:
        self.console = console
        self._state_words = console.describe()
        self._show_status()

    # ---- actions ----------------------------------------------------------------------------

    def action_back(self) -> None:
        """Back to the table; the stream stays open."""
        self.app.pop_screen()

    def action_next_console(self) -> None:
        consoles = open_consoles(self.app)
        if len(consoles) < 2:
            self.notify("no other console is open (open one with v on the table)", severity="warning")
            return
        following = consoles[(consoles.index(self) + 1) % len(consoles)]
        self.app.switch_screen(following)

    def action_scroll(self, pages: int) -> None:
        self.query_one(TerminalView).scroll_history(pages)

    def action_copy(self) -> None:
        text = self.query_one(TerminalView).text()
        self.app.copy_to_clipboard(text)
        self.notify(f"copied {len(text.splitlines())} lines of {self.vm}'s console to the clipboard", timeout=3)

    def action_close_console(self) -> None:
        """Detach for good (the domain keeps running) and forget this screen."""
        if self.console is not None:
            self.console.close()
        if self in _OPEN.get(self.app, []):
            _OPEN[self.app].remove(self)
        self.app.pop_screen()
        self.app.uninstall_screen(self)
        self.app.notify(f"closed the console of {self.vm} (the domain keeps running)", timeout=4)


def _open_session(app: Any, screen: VmConsoleScreen, force: bool) -> Any:
    """On a worker thread: attach the screen to the domain's console through the fleet."""
    return app.context.fleet.console(
        screen.vm, screen.host_name, on_output=screen.output_from_libvirt, on_notice=screen.notice_from_libvirt,
        force=force, follow=True,
    )


def _attach(app: Any, name: str, host: str, force: bool) -> None:
    from rfconsole.virt.errors import ConsoleBusy

    screen = VmConsoleScreen(name, host)

    def done(console: Any) -> None:
        installed = screen_name(host, name)
        if app.is_screen_installed(installed):  # opened twice quickly: keep the first
            console.close()
            app.push_screen(installed)
            return
        screen.attached(console)
        app.install_screen(screen, installed)
        _OPEN.setdefault(app, []).append(screen)
        app.push_screen(installed)
        if console.took_over:
            app.notify(console.describe(), title=f"console of {name}", severity="warning", timeout=6)

    def failed(error: BaseException) -> None:
        if isinstance(error, ConsoleBusy) and not force:
            from rfconsole.tui.screens.dialogs import ConfirmDialog

            def answered(yes: bool | None) -> None:
                if yes:
                    _attach(app, name, host, True)

            app.push_screen(
                ConfirmDialog(f"Take over the console of {name} on host {host}?", f"{error.message}. Taking it over disconnects that client."),
                answered,
            )
            return
        app.report(error, f"console of {name} on {host}")

    in_background(app, f"console of {name} on {host}", lambda: _open_session(app, screen, force), done, failed, group="console")
