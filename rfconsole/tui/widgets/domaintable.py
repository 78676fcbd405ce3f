"""The home screen's table of domains (tui/screens/domains.py): its rows, sort, filter and marks."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events, on
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from rfconsole.tui import fleetview
from rfconsole.tui.context import opened
from rfconsole.tui.widgets.sparkline import history, sparkline
from rfconsole.virt.events import DomainStatus

# (key, heading, width): fixed widths, so a cell changing in place never re-measures the table
COLUMNS = (
    ("mark", " ", 1),
    ("name", "Name", 14),
    ("host", "Host", 8),
    ("hypervisor", "Hyp", 4),
    ("state", "State", 11),
    ("vcpus", "vCPU", 4),
    ("memory", "Memory", 6),
    ("cpu", "CPU %", 5),
    ("spark", "CPU history", 12),
    ("switch", "Switch", 10),
    ("image", "Image", 21),
)
# Below WIDE columns the table leaves out vCPU and the CPU history (the details screen, i, shows both)
# and narrows the rest, so every column is in view at 80: each column takes its width plus 2 of padding.
WIDE = 120
NARROW_COLUMNS = (
    ("mark", " ", 1),
    ("name", "Name", 11),
    ("host", "Host", 6),
    ("hypervisor", "Hyp", 4),
    ("state", "State", 11),
    ("memory", "Memory", 6),
    ("cpu", "CPU %", 5),
    ("switch", "Switch", 7),
    ("image", "Image", 9),
)
SORTS = ("name", "host", "hypervisor", "state", "cpu", "memory")
DESCENDING = {"cpu", "memory"}  # the busiest first
STATE_STYLES = {
    "running": "bold green",
    "paused": "yellow",
    "shut off": "dim",
    "shutoff": "dim",
    "crashed": "bold red",
    "in shutdown": "dark_orange",
    "blocked": "cyan",
    "pmsuspended": "yellow",
    "undefined": "dim italic",
    "unknown": "italic red",
}


@dataclass
class Row:
    """What one line of the table shows, and the CPU history behind its sparkline."""

    status: DomainStatus
    cpu: deque[float]

    @property
    def key(self) -> str:
        return fleetview.row_key(self.status)


def memory_label(mib: int) -> str:
    """Memory in at most 5 characters, with its unit: 512M, 1.5G, 16G, 16T."""
    for unit, size in (("T", 1024 * 1024), ("G", 1024)):
        if mib >= size:
            value = mib / size
            return f"{value:.1f}".removesuffix(".0") + unit if value < 10 else f"{value:.0f}{unit}"
    return f"{mib}M"


class DomainTable(DataTable):
    """The table of domains: it owns its rows (one per domain, with its CPU history), their sort,
    the filter and the marks, and changes cells in place. Its keys (select, sort) are the screen's,
    from keymap.TABLE, which calls these methods; it posts ``Changed`` when what the status line
    says of it changed."""

    class Changed(Message):
        """The rows, the marks, the filter or the sort changed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.domains: dict[str, Row] = {}  # by row key ("host/name"); ``rows`` is DataTable's shown rows
        self.marked: set[str] = set()
        self.filter_text = ""
        self.sort_by = "slot"
        self.images: dict[str, str] = {}  # domain name -> image of its file in XML/
        self.wanted_cursor: str | None = None  # a row to put the cursor on once it shows up

    def on_mount(self) -> None:
        self._add_columns()

    # home and end move the cursor to the first and the last row (the help says so), not sideways
    def action_scroll_home(self) -> None:
        self.action_scroll_top()

    def action_scroll_end(self) -> None:
        self.action_scroll_bottom()

    # ---- what the status line says ---------------------------------------------------------

    @property
    def running(self) -> int:
        return sum(1 for row in self.domains.values() if fleetview.state_label(row.status) == "running")

    # ---- data in ---------------------------------------------------------------------------

    def apply_statuses(self, statuses: Iterable[DomainStatus], complete: bool) -> None:
        """Change rows in place; new domains refill the table once, in order; with ``complete``,
        drop rows no host reports any more."""
        seen: set[str] = set()
        added = False
        for status in statuses:
            key = fleetview.row_key(status)
            seen.add(key)
            row = self.domains.get(key)
            if row is None:
                row = self.domains[key] = Row(status, history())
                row.cpu.append(fleetview.cpu_percent(status))
                added = True
                continue
            if status == row.status:  # the usual poll: only the CPU history moves
                old_spark = sparkline(row.cpu)
                row.cpu.append(fleetview.cpu_percent(status))
                new_spark = sparkline(row.cpu)
                if new_spark != old_spark and not added:
                    self._update_cell(key, "spark", Text(new_spark, style="green"))
                continue
            before = self._cells(row)
            row.status = status
            row.cpu.append(fleetview.cpu_percent(status))
            if added or key not in self.rows:
                continue
            for (column, _, _), old, new in zip(self._columns(), before, self._cells(row), strict=True):
                if old != new:
                    self._update_cell(key, column, new)
        if complete:
            for key in set(self.domains) - seen:
                self.forget(key)
        if added:
            self.rebuild()
        else:
            self.post_message(self.Changed())
            self._place_wanted_cursor()

    def forget(self, key: str) -> None:
        self.domains.pop(key, None)
        self.marked.discard(key)
        if key in self.rows:
            self.remove_row(key)
        self.post_message(self.Changed())

    def set_images(self, images: dict[str, str]) -> None:
        """The images of the files in XML/ now: the Image cells that changed."""
        changed = {name for name in set(images) | set(self.images) if images.get(name) != self.images.get(name)}
        self.images = images
        for key, row in self.domains.items():
            if row.status.name in changed:
                self._update_cell(key, "image", images.get(row.status.name, ""))

    def redraw_switches(self) -> None:
        """A switch came or went: only the Switch cells change."""
        for key, row in self.domains.items():
            self._update_cell(key, "switch", fleetview.switch_label(opened(self), row.status))

    # ---- rendering -------------------------------------------------------------------------

    def _columns(self) -> tuple[tuple[str, str, int], ...]:
        return COLUMNS if self.screen.size.width >= WIDE else NARROW_COLUMNS

    def _cells(self, row: Row) -> tuple[Any, ...]:
        """The row's cells, in the order of the columns shown at this width."""
        status = row.status
        state = fleetview.state_label(status)
        every = {
            "mark": Text("●", style="bold magenta") if row.key in self.marked else Text(" "),
            "name": Text(status.name, style="bold") if getattr(status, "owned", False) else Text(status.name),
            "host": status.host,
            "hypervisor": fleetview.hypervisor_label(status),
            "state": Text(state, style=STATE_STYLES.get(state, "")),
            "vcpus": str(status.vcpus),
            "memory": memory_label(status.memory_mib),
            "cpu": f"{fleetview.cpu_percent(status):5.1f}",
            "spark": Text(sparkline(row.cpu), style="green"),
            "switch": fleetview.switch_label(opened(self), status),
            "image": self.images.get(status.name, ""),
        }
        return tuple(every[key] for key, _, _ in self._columns())

    def _update_cell(self, key: str, column: str, value: Any) -> None:
        """Change one cell in place, when its row is shown and its column is at this width."""
        if key in self.rows and column in self.columns:
            self.update_cell(key, column, value)

    def on_resize(self, _event: events.Resize) -> None:
        if [column.key.value for column in self.ordered_columns] != [key for key, _, _ in self._columns()]:
            self.rebuild()

    def _shown(self, row: Row) -> bool:
        if not self.filter_text:
            return True
        needle = self.filter_text.lower()
        status = row.status
        haystack = " ".join(
            (status.name, status.host, fleetview.hypervisor_label(status), fleetview.state_label(status),
             self.images.get(status.name, ""))
        ).lower()
        return all(word in haystack for word in needle.split())

    def _headings(self) -> list[str]:
        """The column the table is sorted by is marked (▴ up, ▾ down; none: rftest2 order)."""
        return [("▾" if key in DESCENDING else "▴") + label.replace(" ", "") if key == self.sort_by else label
                for key, label, _width in self._columns()]

    def _add_columns(self) -> None:
        for (key, _, width), heading in zip(self._columns(), self._headings(), strict=True):
            self.add_column(heading, key=key, width=width)

    def rebuild(self) -> None:
        """Filter or sort changed: the one time the table is refilled."""
        selected = self.selected_key()
        if [str(column.label) for column in self.ordered_columns] == self._headings():
            self.clear()  # same headings (the first fill, a filter): the columns stay as measured
        else:
            self.clear(columns=True)
            self._add_columns()
        for row in sorted(self.domains.values(), key=self._sort_key):
            if self._shown(row):
                self.add_row(*self._cells(row), key=row.key)
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected))
        self.post_message(self.Changed())
        self._place_wanted_cursor()

    def point_at(self, key: str) -> None:
        """Put the cursor on this row, now or as soon as it appears (after a wizard)."""
        self.wanted_cursor = key
        self._place_wanted_cursor()

    def _place_wanted_cursor(self) -> None:
        if self.wanted_cursor is not None and self.wanted_cursor in self.rows:
            self.move_cursor(row=self.get_row_index(self.wanted_cursor))
            self.wanted_cursor = None

    # ---- sort and filter -------------------------------------------------------------------

    def _sort_key(self, row: Row) -> tuple:
        status = row.status
        if self.sort_by == "cpu":
            return (-fleetview.cpu_percent(status), status.name)
        if self.sort_by == "memory":
            return (-status.memory_mib, status.name)
        if self.sort_by in ("host", "hypervisor", "state"):
            value = {"host": status.host, "hypervisor": fleetview.hypervisor_label(status),
                     "state": fleetview.state_label(status)}[self.sort_by]
            return (value, fleetview.slot_order(status), status.name)
        if self.sort_by == "name":
            return (status.name, status.host)
        return (fleetview.slot_order(status), status.name, status.host)  # rfvmA–rfvmD first

    def sort_on(self, column: str) -> None:
        self.sort_by = column
        self.rebuild()

    def next_sort(self) -> str:
        """Sort by the next column (after the last: rftest2's order); the column sorted by now."""
        order = ("slot",) + SORTS
        self.sort_on(order[(order.index(self.sort_by) + 1) % len(order)])
        return self.sort_by

    @on(DataTable.HeaderSelected)
    def _sort_by_header(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = event.column_key.value
        if column in SORTS:
            self.sort_on(column)

    def filter_by(self, text: str) -> None:
        self.filter_text = text.strip()
        self.rebuild()

    # ---- selection -------------------------------------------------------------------------

    def selected_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except RowDoesNotExist:
            return None

    def targets(self) -> list[DomainStatus]:
        """The marked domains, or else the one under the cursor."""
        keys = sorted(self.marked) if self.marked else [k for k in [self.selected_key()] if k]
        return [self.domains[key].status for key in keys if key in self.domains]

    def toggle_mark(self) -> None:
        """Mark or unmark the row under the cursor, and move down one."""
        key = self.selected_key()
        if key is None:
            return
        self.marked ^= {key}
        self._redraw_mark(key)
        self.move_cursor(row=min(self.cursor_row + 1, self.row_count - 1))
        self.post_message(self.Changed())

    def mark_all(self) -> None:
        """Mark every shown row, or, when all are marked, none."""
        shown = {key.value for key in self.rows if key.value is not None}
        changed = shown if not (shown <= self.marked) else set(self.marked)
        self.marked = set() if shown <= self.marked and shown else shown
        for key in changed:
            self._redraw_mark(key)
        self.post_message(self.Changed())

    def clear_marks(self) -> bool:
        """Unmark every row; False when none was marked."""
        if not self.marked:
            return False
        self.marked, cleared = set(), self.marked
        for key in cleared:
            self._redraw_mark(key)
        self.post_message(self.Changed())
        return True

    def _redraw_mark(self, key: str) -> None:
        if key in self.rows and key in self.domains:
            self.update_cell(key, "mark", self._cells(self.domains[key])[0])
