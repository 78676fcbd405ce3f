"""The console app: screens, global keys, the command palette, and the hop from libvirt's thread to the UI.

The first frame comes first (docs/architecture.md, "The first frame"): given an opener instead of a
ConsoleContext, the app paints the home screen, then opens the working folder, the config and the
fleet on a thread of its own (importing libvirt and lxml there), and only then reads the hosts.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from textual.app import App, SystemCommand
from textual.message import Message
from textual.screen import Screen
from textual.signal import Signal

from rfconsole.errors import RfconsoleError
from rfconsole.tui import keymap
from rfconsole.tui.background import in_background
from rfconsole.tui.context import ConsoleContext
from rfconsole.tui.styles import APP_STYLESHEETS, stylesheet_paths
from rfconsole.tui.unsaved import UnsavedWork
from rfconsole.virt.demo import DEMO_BANNER
from rfconsole.virt.events import DomainEvent, HostEvent


class FleetChanged(Message):
    """A libvirt event (a domain's or a host's), posted from libvirt's event-loop thread."""

    def __init__(self, event: DomainEvent | HostEvent) -> None:
        super().__init__()
        self.event = event


class SwitchesChanged(Message):
    """An OpenFlow switch came or went (posted from the on-demand listener's thread)."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event


class ContextOpened(Message):
    """The opening thread is done: its context, or the error that stopped it, is on the app."""


ContextOpener = Callable[[], ConsoleContext]


COMMAND_LINE_WORDS = re.compile(
    r"(?<![\w-])--[a-z]|`rfconsole |\brfconsole (xml|image|snapshot|clone|up|down|start|shutdown|destroy|define|undefine"
    r"|redeploy|reset|status|details|console|watch) "
)


def console_hint(error: RfconsoleError) -> str | None:
    """What to do, in the console's terms: the error's own console hint, else its hint, said to be for
    the command line when it names a command or flag (the console has no flags to give)."""
    if error.console_hint:
        return error.console_hint
    if error.hint and COMMAND_LINE_WORDS.search(error.hint) and "in the console" not in error.hint:
        return f"on the command line: {error.hint}"
    return error.hint


class RfconsoleApp(App[int]):
    """Domains on every host, the wizard, the XML editor and rftest2's bring-up, all by keyboard."""

    TITLE = "rfconsole"
    CSS_PATH = stylesheet_paths(*APP_STYLESHEETS)  # the other screens bring their own
    BINDINGS = keymap.APP.bindings()

    def __init__(self, context: ConsoleContext | ContextOpener, *, watch_events: bool = True, poll_seconds: float | None = 2.0) -> None:
        """``context``: the working folder and fleet, or a function that opens them, which the app
        calls on a thread after its first frame (the console's own start, launch.run_console).
        ``poll_seconds``: between status polls (0: none; None: the fleet's stats_interval)."""
        super().__init__()
        # None until opened: every key that needs it is disabled until then (check_action)
        self.context: ConsoleContext | None = context if isinstance(context, ConsoleContext) else None
        self._opener: ContextOpener | None = None if isinstance(context, ConsoleContext) else context
        self._opening: threading.Thread | None = None
        self._opened: ConsoleContext | None = None  # set by the opening thread
        self.opening_error: BaseException | None = None  # what stopped the opening; launch raises it
        self.watch_events = watch_events
        self.poll_seconds = poll_seconds
        self._lost_hosts: set[str] = set()
        self._unsaved_work: dict[Screen, str] = {}  # what each screen said quitting would lose (UnsavedWork)
        # screens subscribe to what they show (the domains screen to both), wherever they are in the stack
        self.fleet_events: Signal[DomainEvent | HostEvent] = Signal(self, "fleet-events")
        self.switch_events: Signal[Any] = Signal(self, "switch-events")
        self.context_ready: Signal[ConsoleContext] = Signal(self, "context-ready")
        self.theme = "textual-dark"

    def get_default_screen(self) -> Screen:
        """The home screen is the bottom of the stack itself: no blank screen is laid out under it
        first, and Textual's Ready (the first frame) is the home screen's."""
        from rfconsole.tui.screens.domains import DomainsScreen

        return DomainsScreen()

    def on_mount(self) -> None:
        if self.context is not None:
            self._use_context(self.context)

    def on_ready(self) -> None:
        """The first frame is on the screen: now open what the console works on."""
        self._first_frame_done = True
        if self.context is None:
            self._start_opening()
        if self._exit_asked is not None:
            super().exit(*self._exit_asked)

    _first_frame_done = False
    _exit_asked: tuple | None = None

    def exit(self, result: int | None = None, return_code: int = 0, message: Any | None = None) -> None:
        """As App.exit; asked before the first frame (a key typed ahead), it waits for that frame:
        Textual's Header, still setting itself up, would fail on a screen being taken down."""
        if not self._first_frame_done:
            self._exit_asked = (result, return_code, message)
            return
        super().exit(result, return_code, message)

    # ---- the context, opened after the first frame ----------------------------------------

    def _start_opening(self) -> None:
        self._opening = threading.Thread(target=self._open_in_thread, name="rfconsole-open", daemon=True)
        self._opening.start()

    def _open_in_thread(self) -> None:
        assert self._opener is not None
        try:
            self._opened = self._opener()
        except BaseException as error:  # noqa: BLE001 - handed to the UI thread, then raised by launch
            self.opening_error = error
        self._post_from_thread(ContextOpened())

    def on_context_opened(self, _message: ContextOpened) -> None:
        if self.opening_error is not None or self._opened is None:
            self.exit()  # launch.run_console raises the error once the terminal is restored
            return
        self._use_context(self._opened)

    def _use_context(self, context: ConsoleContext) -> None:
        self.context = context
        if context.demo:
            self.sub_title = DEMO_BANNER
        if self.poll_seconds is None:
            self.poll_seconds = context.fleet.stats_interval
        if self.watch_events:
            context.fleet.subscribe(self._from_libvirt_thread)
            if context.switches is not None:
                context.switches.subscribe(self._from_listener_thread)
        if context.fleet.timeline is not None:  # the console's history on the timeline, as `rfconsole watch` records it
            context.fleet.record_lifecycle_events()
            if context.switches is not None:  # its listener as watch's: the map reads where switches connect from this line
                context.switches.record_on(context.fleet.timeline)
                host, port = context.switches.address
                context.fleet.timeline.record("watch", f"{host}:{port}", "watching for OpenFlow switches (in the console)")
        for problem in context.startup_problems:
            self.report(problem, "on-demand boot is off")
        self.refresh_bindings()
        self.context_ready.publish(context)

    def opened_context(self) -> ConsoleContext | None:
        """The context this app was given or opened, after waiting for an opening still under way
        (so the caller can close what was opened, also when the app quit first); None if none was."""
        if self._opening is not None:
            self._opening.join()
        return self.context or self._opened

    # The on-demand listener and libvirt's event loop call these on their own threads. post_message
    # is thread-safe and does not wait for the UI (call_from_thread would block libvirt's thread
    # while the UI is busy); a message posted after the app stopped is dropped.
    def _from_listener_thread(self, event: Any) -> None:
        self._post_from_thread(SwitchesChanged(event))

    def _from_libvirt_thread(self, event: DomainEvent | HostEvent) -> None:
        self._post_from_thread(FleetChanged(event))

    def _post_from_thread(self, message: Message) -> None:
        try:
            self.post_message(message)
        except RuntimeError:  # the event loop has closed: the app is gone, late events are dropped
            pass

    def on_fleet_changed(self, message: FleetChanged) -> None:
        event = message.event
        if isinstance(event, HostEvent):
            # a first connection is no news; losing a host, and getting it back, are
            if not event.connected:
                self._lost_hosts.add(event.host)
                self.notify(str(event), severity="warning", timeout=8)
            elif event.host in self._lost_hosts:
                self._lost_hosts.discard(event.host)
                self.notify(str(event), timeout=4)
        self.fleet_events.publish(event)

    def on_switches_changed(self, message: SwitchesChanged) -> None:
        self.switch_events.publish(message.event)

    # ---- errors and long work -------------------------------------------------------------

    def notify(self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Every notification as plain words: a libvirt or OS message's "[Errno 2]" or a path's "[x]" is shown,
        not read as markup (screens and widgets reach this through their own notify, which says markup=True)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def report(self, error: BaseException, doing: str = "") -> None:
        """Show a problem as a notification; the console carries on."""
        if isinstance(error, RfconsoleError):
            text = error.message + (f"\nhint: {console_hint(error)}" if error.hint or error.console_hint else "")
        else:
            text = f"{type(error).__name__}: {error}"
        self.notify(text, title=doing or "rfconsole", severity="error", timeout=8)

    def run_in_background(self, doing: str, job: Callable[[], Any], done: Callable[[Any], None] | None = None) -> None:
        """Run ``job`` off the UI thread; hand its result to ``done`` on the UI thread, or notify its error."""
        in_background(self, doing, job, done)

    # ---- read-only sessions ----------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        return self.context is not None and self.context.read_only

    def refuses(self, action: str) -> bool:
        """A read-only session (--read-only) runs no key that changes a domain or a file."""
        return self.read_only and action.split("(")[0] in keymap.CHANGING_ACTIONS

    async def run_action(self, action: Any, default_namespace: Any = None, namespaces: Any = None) -> bool:
        """Every key, palette entry and click reaches its action here: a read-only session says why
        a changing one does nothing (the connection would refuse it too)."""
        name = action if isinstance(action, str) else action[1]
        if self.refuses(name):
            self.notify(f"this session is read-only (--read-only): {name.split('(')[0].replace('_', ' ')} changes "
                        "things, so it is off", title="read-only", severity="warning")
            return True
        return await super().run_action(action, default_namespace, namespaces)

    # ---- global actions --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "bring_up":  # from the table only, not over the wizard, the editor or a dialog
            from rfconsole.tui.screens.domains import DomainsScreen

            if self.context is None:
                return None  # shown, disabled, until the fleet is open
            return isinstance(self.screen, DomainsScreen)
        return True

    def on_unsaved_work(self, message: UnsavedWork) -> None:
        if message.words is None:
            self._unsaved_work.pop(message.screen, None)
        else:
            self._unsaved_work[message.screen] = message.words

    async def action_quit(self) -> None:
        """Quit; when screens hold unsaved work (the wizard's fields, an edited XML), only after one
        question naming all of it (each screen reports its own work with an UnsavedWork message)."""
        from rfconsole.tui.screens.dialogs import ConfirmDialog

        if isinstance(self.screen, ConfirmDialog) and self.screen.id == "confirm-quit":
            return  # already asking
        held = list(self._unsaved_work.values())
        if not held:
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        dialog = ConfirmDialog("Quit rfconsole?", "Lost if you do:\n" + "\n".join(f"• {words}" for words in held))
        dialog.id = "confirm-quit"
        self.push_screen(dialog, answered)

    def action_help(self) -> None:
        from rfconsole.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(getattr(self.screen, "KEYMAP", ()), read_only=self.read_only))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def action_bring_up(self) -> None:
        from rfconsole.tui.screens.bringup import BringUpScreen

        if not isinstance(self.screen, BringUpScreen):
            self.push_screen(BringUpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette: Textual's own commands, then the keys of the screen it was opened on and the
        console's global keys, from the one keymap (what the screen cannot do now is not offered)."""
        yield from super().get_system_commands(screen)
        sections = [(screen, section) for section in getattr(screen, "KEYMAP", ())] + [(self, keymap.APP)]
        for target, section in sections:
            for key in section.keys:
                if (not (key.bound and key.palette) or self.refuses(key.action)
                        or not target.check_action(key.action.split("(")[0], ())):
                    continue
                yield SystemCommand(f"{key.label} ({key.written})", key.help, _runner(target, key.action))


def _runner(target: Any, action: str) -> Callable[[], Any]:
    return lambda: target.run_action(action)
