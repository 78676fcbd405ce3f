"""The lab's event timeline (``E`` on the table, issue 21): the working folder's events.jsonl, as
`rfconsole events --follow` prints it, newest last: every lifecycle event of every host, every
switch up and down, every on-demand boot with its latency, every operation done through rfconsole
(by this console, another one, `watch` or a CLI command), with time and host.

The file is followed on a thread (``Timeline.follow_batches``: what another process appends shows
within a poll, 0.1 s, across rotations), one message per look however many lines it found; the
screen keeps the last ``KEPT`` events and lists the newest ``SHOWN`` of those the filter lets
through: words in the subject's name (a VM, a switch's datapath id or its VMs, a host) and one kind
(``k``). A DataTable adds a row in about 0.25 ms here, so the list is bounded: rebuilt (newest
``SHOWN``) only once ``SLACK`` more have come, and a filter is applied once typing pauses."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Label

from rfconsole.tui import keymap
from rfconsole.tui.context import opened
from rfconsole.tui.styles import stylesheet_paths
from rfconsole.tui.widgets.keybar import KeyBar
from rfconsole.virt.timeline import KINDS, Timeline, TimelineEntry, TimelineNote

KEPT = 5000  # events kept in memory (the file keeps more: `rfconsole events` reads it all)
SHOWN = 1000  # the newest events the filter lets through, listed
SLACK = 250  # rows added beyond SHOWN before the list is rebuilt to SHOWN
FILTER_PAUSE = 0.2  # seconds of no typing before the filter is applied
POLL_SECONDS = 0.1
HELP_LINE = "/ filter by VM, switch or host · k one kind of event · end: newest, followed · escape: clear filter, back · F1: all keys"


def names_of(entry: TimelineEntry) -> list[str]:
    """What the filter looks in: the subject (a VM, a datapath id, a host), the host, a switch's VMs."""
    vms = entry.data.get("vms")
    return [entry.subject, entry.host or "", *(vm for vm in (vms if isinstance(vms, list) else ()) if isinstance(vm, str))]


def shown_by(entry: TimelineEntry, words: str, kind: str | None) -> bool:
    """Whether the filter lets ``entry`` through: its kind (None: any), and each word typed in one
    of its names (case ignored)."""
    if kind is not None and entry.kind != kind:
        return False
    names = [name.lower() for name in names_of(entry)]
    return all(any(word in name for name in names) for word in words.lower().split())


class TimelineRead(Message):
    """What one look at the timeline found, posted from the follower's thread."""

    def __init__(self, items: list[TimelineEntry | TimelineNote]) -> None:
        super().__init__()
        self.items = items


class EventsScreen(Screen):
    CSS_PATH = stylesheet_paths("events.tcss")
    KEYMAP = (keymap.EVENTS,)
    BINDINGS = keymap.EVENTS.bindings()

    def __init__(self) -> None:
        super().__init__()
        self.entries: deque[TimelineEntry] = deque(maxlen=KEPT)
        self.kind: str | None = None
        self.words = ""
        self.skipped = 0  # lines of the files that were not events (torn, foreign): `rfconsole events` names them
        self.following = True  # the cursor stays on the newest event
        self.timeline: Timeline | None = None
        self.rows: list[TimelineEntry] = []  # the entry of each row of the list
        self._stop = threading.Event()
        self._filter_timer: Any = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="events-filters"):
            yield Input(placeholder="filter: VM, switch or host (/)", id="events-filter")
            yield Label("kind: all (k)", id="events-kind")
        yield DataTable(id="events", cursor_type="row", zebra_stripes=True)
        yield Label("", id="events-detail")  # the whole of the event under the cursor: the list cuts long ones
        yield Label("reading the timeline…", id="events-status")
        yield Label(HELP_LINE, id="events-help")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "event timeline"
        table = self.query_one("#events", DataTable)
        table.add_columns("time", "kind", "host", "about", "what")
        table.focus()
        # read, also where nothing is recorded (the demo, a read-only session): another process may write it
        self.timeline = Timeline(opened(self).workdir.root)
        threading.Thread(target=self._follow, args=(self.timeline,), name="rfconsole-events", daemon=True).start()

    def on_unmount(self) -> None:
        self._stop.set()

    def _follow(self, timeline: Timeline) -> None:
        """On the follower's thread: each look's lines, one message (post_message is thread-safe)."""
        for items in timeline.follow_batches(stop=self._stop.is_set, poll=POLL_SECONDS):
            self.post_message(TimelineRead(items))

    # ---- what comes in ----------------------------------------------------------------------

    def on_timeline_read(self, message: TimelineRead) -> None:
        new = [item for item in message.items if isinstance(item, TimelineEntry)]
        self.skipped += len(message.items) - len(new)
        self.entries.extend(new)
        shown = [entry for entry in new if shown_by(entry, self.words, self.kind)]
        if len(self.rows) + len(shown) > SHOWN + SLACK:
            self._show_all()  # the oldest rows go
        else:
            self._add_rows(shown)
            self._follow_newest()
        self._status()

    @staticmethod
    def _row(entry: TimelineEntry) -> tuple[Text, ...]:
        # Text, not str: a name or a libvirt message with "[...]" in it is not Rich markup
        return Text(entry.when_words()), Text(entry.kind), Text(entry.host or "-"), Text(entry.subject), Text(entry.what)

    def _add_rows(self, entries: list[TimelineEntry]) -> None:
        self.rows += entries
        self.query_one("#events", DataTable).add_rows(self._row(entry) for entry in entries)

    def _detail(self, row: int) -> None:
        entry = self.rows[row] if 0 <= row < len(self.rows) else None
        words = "" if entry is None else f"{entry.when_words()}  {entry.kind}  {entry.host or '-'}  {entry.subject}: {entry.what}"
        if entry is not None and entry.data:
            words += "  (" + ", ".join(f"{key}={value}" for key, value in entry.data.items()) + ")"
        self.query_one("#events-detail", Label).update(Text(words))

    def _show_all(self) -> None:
        table = self.query_one("#events", DataTable)
        table.clear()
        self.rows = []
        self._add_rows([entry for entry in self.entries if shown_by(entry, self.words, self.kind)][-SHOWN:])
        self._follow_newest()
        self._detail(table.cursor_row)
        self._status()

    def _follow_newest(self) -> None:
        table = self.query_one("#events", DataTable)
        if self.following and table.row_count:
            table.move_cursor(row=table.row_count - 1, animate=False)

    def _status(self) -> None:
        table = self.query_one("#events", DataTable)
        path = self.timeline.path if self.timeline is not None else "events.jsonl"
        if not self.entries:
            words = f"no events yet in {path}: they show here as they are written"
        else:
            shown, kept = table.row_count, len(self.entries)
            words = f"{shown} of {kept} events shown" if shown < kept else f"{kept} events"
            if shown >= SHOWN:
                words += f" (the newest {SHOWN} the filter lets through; `rfconsole events` has them all)"
            words += f" from {path}, newest last; " + ("following new events" if self.following else "not following (end: newest)")
        if self.skipped:
            words += f"; {self.skipped} lines skipped (torn or not rfconsole's: `rfconsole events` names them)"
        self.query_one("#events-status", Label).update(Text(words))

    @on(DataTable.RowHighlighted, "#events")
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        self._detail(event.cursor_row)
        following = event.cursor_row >= event.data_table.row_count - 1
        if following != self.following:
            self.following = following
            self._status()

    # ---- keys -------------------------------------------------------------------------------

    def action_filter(self) -> None:
        """Bound with priority (as the table's filter): the focus moves before the keys typed next."""
        box = self.query_one("#events-filter", Input)
        if box.has_focus:
            raise SkipAction()
        self.set_focus(box)

    @on(Input.Changed, "#events-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.words = event.value
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_PAUSE, self._show_all)

    @on(Input.Submitted, "#events-filter")
    def _filter_done(self) -> None:
        self.query_one("#events", DataTable).focus()

    def action_next_kind(self) -> None:
        kinds: list[str | None] = [*KINDS, None]
        self.kind = kinds[(kinds.index(self.kind) + 1) % len(kinds)]
        self.query_one("#events-kind", Label).update(f"kind: {self.kind or 'all'} (k)")
        self._show_all()

    def action_newest(self) -> None:
        self.following = True
        self._follow_newest()
        self._status()

    def action_back(self) -> None:
        box = self.query_one("#events-filter", Input)
        if box.value or box.has_focus:
            box.value = ""
            self.query_one("#events", DataTable).focus()
            return
        self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # while the filter is typed in, letters are text (k, end) rather than keys
        if action in ("next_kind", "newest") and self.query_one("#events-filter", Input).has_focus:
            return False
        return True

    def shown_rows(self) -> list[tuple[Any, ...]]:
        """The list's rows as words."""
        table = self.query_one("#events", DataTable)
        return [tuple(str(cell) for cell in table.get_row_at(index)) for index in range(table.row_count)]
