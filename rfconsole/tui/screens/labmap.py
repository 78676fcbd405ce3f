"""The lab map (``m`` on the table, issue 21): each OpenFlow switch, connected or not, since when and
through which controller connection; the VMs that serve it with their state and last on-demand
boot; each VM's NICs with the bridge and port they are plugged into, the switch port RouteFlow's CSV
maps them to and the port's counters; then the bridges, the management bridge first.

Everything is read by ``rfconsole.ondemand.labmap.LabMapReader`` (the same as `rfconsole map`) on a
worker thread; this screen only renders it. It is read again at each new entry of the timeline (a
switch up or down recorded by `rfconsole watch` or a console, followed on a thread), at each libvirt
event (a VM starting), and every second (the counters)."""

from __future__ import annotations

import threading
import time
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static

from rfconsole.ondemand.labmap import (
    COUNTERS_SOURCE,
    EMPTY_MAP_WORDS,
    LabMap,
    LabMapReader,
)
from rfconsole.tui import keymap
from rfconsole.tui.background import in_background
from rfconsole.tui.context import console_app, opened
from rfconsole.tui.widgets.keybar import KeyBar
from rfconsole.virt.timeline import Timeline

REFRESH_SECONDS = 1.0  # the counters and states are read again this often


class TimelineChanged(Message):
    """A new entry (or a skipped line) in the timeline, posted from the follower's thread."""


class LabMapScreen(Screen):
    KEYMAP = (keymap.LABMAP,)
    BINDINGS = keymap.LABMAP.bindings()

    def __init__(self) -> None:
        super().__init__()
        self.lab: LabMap | None = None
        self.shown: dict[str, Any] = {}  # what each part of the screen shows (Rich renderables)
        self._stop = threading.Event()
        self._pending = threading.Event()  # a TimelineChanged is on its way
        self.reader: LabMapReader | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="labmap"):
            yield Static("reading the lab map…", id="labmap-switches")
            yield Static("", id="labmap-bridges")
            yield Static("", id="labmap-notes")
        yield KeyBar()

    def on_mount(self) -> None:
        context = opened(self)
        self.sub_title = "the lab map"
        routeflow_csv = context.config.ondemand.routeflow_config
        timeline = context.fleet.timeline or Timeline(context.workdir.root)  # read, even where nothing is recorded (the demo)
        listener = context.switches.address if context.switches is not None else None  # this console's own, when it runs one
        own = f"{listener[0]}:{listener[1]}" if listener else None
        reader = self.reader = LabMapReader(context.fleet, context.store, routeflow_csv, context.config.ondemand.map, timeline, own)
        console_app(self).fleet_events.subscribe(self, lambda _event: self.refresh_map())
        console_app(self).switch_events.subscribe(self, lambda _event: self.refresh_map())
        # the whole timeline is read before the follower starts: off the UI thread (a long one takes a while)
        in_background(self, "read the lab map", lambda: self._first_read(reader), self._show, self._show_problem, group="labmap-first")
        self.set_interval(REFRESH_SECONDS, self.refresh_map)

    def _first_read(self, reader: LabMapReader) -> LabMap:
        """On a worker: the timeline read and followed from now on, then the map."""
        reader.follow(self._timeline_changed, self._stop.is_set)
        return reader.read()

    def on_unmount(self) -> None:
        self._stop.set()
        console_app(self).fleet_events.unsubscribe(self)
        console_app(self).switch_events.unsubscribe(self)

    def _timeline_changed(self) -> None:
        """On the follower's thread (post_message is thread-safe): one message however many entries
        come before the screen reads the map again (a long timeline is read at once when it opens)."""
        if not self._pending.is_set():
            self._pending.set()
            self.post_message(TimelineChanged())

    def on_timeline_changed(self, _message: TimelineChanged) -> None:
        self._pending.clear()
        self.refresh_map()

    def refresh_map(self) -> None:
        reader = self.reader
        if reader is not None:
            in_background(self, "read the lab map", reader.read, self._show, self._show_problem, group="labmap", exclusive=True)

    def action_refresh(self) -> None:
        self.refresh_map()

    def action_close(self) -> None:
        self.app.pop_screen()

    # ---- rendering --------------------------------------------------------------------------

    def _show_problem(self, error: BaseException) -> None:
        message = getattr(error, "message", str(error))
        self.shown["labmap-notes"] = Text(f"the lab map cannot be read: {message}", style="bold red")
        self.query_one("#labmap-notes", Static).update(self.shown["labmap-notes"])

    def _show(self, lab: LabMap) -> None:
        self.lab = lab
        now = time.time()
        self.shown = {"labmap-switches": self._switches(lab, now), "labmap-bridges": self._bridges(lab), "labmap-notes": self._notes(lab)}
        for widget_id, renderable in self.shown.items():
            self.query_one(f"#{widget_id}", Static).update(renderable)

    def _switches(self, lab: LabMap, now: float) -> Table:
        """A tree in two columns: switch, its VMs, their NICs on the left; what each is on the right."""
        table = Table(title="Switches, their VMs and the VMs' ports", title_justify="left", expand=True, show_lines=False)
        table.add_column("switch / VM / NIC", no_wrap=True)
        table.add_column("state; bridge and port · switch port · counters", ratio=1, overflow="fold")
        shown: set[str] = set()
        for switch in lab.switches:
            style = "bold green" if switch.facts.connected else "bold"
            table.add_row(Text(f"switch {switch.dpid}", style=style), Text(switch.facts.words(now), style=style))
            for name in switch.vms:
                self._vm_rows(table, lab, name, now)
                shown.add(name)
            if not switch.vms:
                table.add_row("  mapped to no VM", "")
        alone = [vm.name for vm in lab.vms if vm.name not in shown]
        if alone:
            table.add_row(Text("VMs of no switch", style="bold"), "")
            for name in alone:
                self._vm_rows(table, lab, name, now)
        if not lab.switches and not lab.vms:
            table.add_row("—", EMPTY_MAP_WORDS)
        return table

    def _vm_rows(self, table: Table, lab: LabMap, name: str, now: float) -> None:
        vm = lab.vm(name)
        if vm is None:  # build_lab_map makes one of every VM it names
            return
        state = vm.state_words + (f"; {vm.boot.words(now)}" if vm.boot else "")
        table.add_row(Text(f"  {vm.name}", style="bold"), Text(state, style="green" if vm.state.is_active else ""))
        if not vm.nics:
            table.add_row("", Text(vm.no_nic_words))
        for nic in vm.nics:
            facts = [nic.port_words] + ([nic.switch_words] if nic.switch_words else []) + ([nic.counter_words] if vm.state.is_active else [])
            table.add_row(Text(f"    {nic.name} {nic.mac or '?'}"), Text(" · ".join(facts)))

    def _bridges(self, lab: LabMap) -> Table:
        table = Table(title="Bridges (the management bridge first)", title_justify="left", expand=True)
        for heading in ("bridge", "kind", "role", "ports"):
            table.add_column(heading, overflow="fold")
        for bridge in lab.bridges:
            table.add_row(Text(bridge.name), bridge.kind_words, bridge.role, Text(bridge.ports_words))
        if not lab.bridges:
            table.add_row("—", "", "", "no NIC known")
        return table

    def _notes(self, lab: LabMap) -> Any:
        lines = [Text(problem, style="bold red") for problem in lab.problems]
        lines.append(Text(f"counters: {COUNTERS_SOURCE}", style="dim"))
        lines.append(Text(f"switches: from the timeline {lab.sources.get('timeline') or '(none)'}; "
                          f"map: RouteFlow's CSV {lab.sources.get('routeflow_csv') or '(none)'}", style="dim"))
        return Group(*lines)
