"""Each host's state, always on the home screen: connected, or down since HH:MM:SS and retrying in
N s, with its URI (fleetview.host_line says it in the width there is).

The states are read on a thread (a host's lock may be held by a connection being opened) at each
host event and every second, so the countdown moves; never two reads at once.
"""

from __future__ import annotations

import time

from textual.widgets import Static

from rfconsole.tui import fleetview
from rfconsole.tui.background import in_background
from rfconsole.tui.context import console_app, opened
from rfconsole.virt.events import HostEvent, HostState


class HostLine(Static):
    """One line under the header (styled in styles/domains.tcss)."""

    def __init__(self) -> None:
        super().__init__("", id="hosts")
        self.states: list[HostState] = []
        self._reading = False
        self._shown: object = None

    def on_mount(self) -> None:
        console_app(self).fleet_events.subscribe(self, self._fleet_event)
        if console_app(self).context is None:
            console_app(self).context_ready.subscribe(self, lambda _context: self.read())
        else:
            self.read()
        self.set_interval(1.0, self.read)

    def _fleet_event(self, event: object) -> None:
        if isinstance(event, HostEvent):
            self.read()

    def read(self) -> None:
        """Read the hosts' states again (the home screen asks after each poll)."""
        if console_app(self).context is None or self._reading:
            return
        self._reading = True
        self._read_states()

    def _read_states(self) -> None:
        in_background(self, "reading the hosts' states", opened(self).fleet.host_states, self._read, self._not_read,
                      group="hosts")

    def _read(self, states: list[HostState]) -> None:
        self._reading = False
        self._show(states)

    def _not_read(self, error: BaseException) -> None:
        self._reading = False
        console_app(self).report(error, "reading the hosts' states")

    def _show(self, states: list[HostState]) -> None:
        self.states = states
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        if not self.states:
            return
        width = max(1, self.content_region.width or self.screen.size.width - 2)
        line = fleetview.host_line(self.states, time.time(), width)
        if line != self._shown:  # the same line again (a connected host's every second) is not redrawn
            self._shown = line
            self.update(line)
