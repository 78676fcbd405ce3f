"""The switches connected right now, and whoever wants to hear when one comes or goes.

Thread-safe: the listener reports from its asyncio loop, the console and the booter read and
subscribe from their own threads. Subscribers are called in the thread that reported the
event (the listener's loop), outside the registry's lock; a subscriber that raises is logged
and the others still hear the event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import Enum

from rfconsole.model.rftest2 import format_datapath_id

__all__ = ["Switch", "SwitchEvent", "SwitchEventKind", "SwitchRegistry", "format_datapath_id"]

log = logging.getLogger("rfconsole.ondemand")


@dataclass(frozen=True)
class Switch:
    """One switch connected to the listener."""

    datapath_id: int
    address: str  # the switch's end of the TCP connection, host:port
    version: str  # the negotiated OpenFlow version, e.g. "OpenFlow 1.3"
    connected_since: datetime  # wall clock, for people
    up_monotonic: float  # time.monotonic() when the handshake completed, for latencies
    vms: tuple[str, ...] = ()  # the VMs mapped to this datapath id
    role: str = "equal"  # what the switch granted: "slave" once it answered the role request

    @property
    def dpid(self) -> str:
        return format_datapath_id(self.datapath_id)


class SwitchEventKind(str, Enum):
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class SwitchEvent:
    kind: SwitchEventKind
    switch: Switch
    monotonic: float
    reason: str = ""  # why a switch went down: "connection closed", "echo timeout", …


Subscriber = Callable[[SwitchEvent], None]


class SwitchRegistry:
    """The connections of switches that completed the handshake, and their datapath ids.

    Connections are what is tracked, not datapath ids: two switches may claim one datapath id
    (a misconfiguration, a reconnect before the old connection is noticed dead, or someone on
    the control network). The datapath id is up while any of its connections is: "up" is
    published for each connection, "down" only when the last one of that id closes.
    """

    def __init__(self, mapping: Mapping[int, tuple[str, ...]] | None = None) -> None:
        self._lock = threading.Lock()
        self._connections: dict[object, Switch] = {}  # connection token -> its switch, in arrival order
        self._subscribers: list[Subscriber] = []
        self._mapping: dict[int, tuple[str, ...]] = dict(mapping or {})

    # ------------------------------------------------------------------ reading
    def switches(self) -> list[Switch]:
        """Every connected switch, by datapath id (one entry per connection)."""
        with self._lock:
            return sorted(self._connections.values(), key=lambda switch: (switch.datapath_id, switch.up_monotonic))

    def get(self, datapath_id: int) -> Switch | None:
        """The newest connection of ``datapath_id``, None when it has none."""
        with self._lock:
            found = [switch for switch in self._connections.values() if switch.datapath_id == datapath_id]
            return found[-1] if found else None

    def connections(self, datapath_id: int) -> int:
        """How many connections claim ``datapath_id`` now."""
        with self._lock:
            return sum(1 for switch in self._connections.values() if switch.datapath_id == datapath_id)

    def set_mapping(self, mapping: Mapping[int, tuple[str, ...]]) -> None:
        """Replace the datapath id -> VMs map (connected switches show their new VMs)."""
        with self._lock:
            self._mapping = dict(mapping)
            for token, switch in list(self._connections.items()):
                self._connections[token] = replace(switch, vms=self._mapping.get(switch.datapath_id, ()))

    # ------------------------------------------------------------------ subscribing
    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber(event)`` on every switch up and down; returns the unsubscribe function."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def _publish(self, event: SwitchEvent) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:
                log.exception("a subscriber failed on switch %s %s", event.switch.dpid, event.kind.value)

    # ------------------------------------------------------------------ reporting (the listener)
    def switch_up(self, token: object, datapath_id: int, address: str, version: str) -> Switch:
        """Connection ``token`` completed the handshake as ``datapath_id``: publishes "up"."""
        now = time.monotonic()
        with self._lock:
            switch = Switch(
                datapath_id=datapath_id,
                address=address,
                version=version,
                connected_since=datetime.now(UTC),
                up_monotonic=now,
                vms=self._mapping.get(datapath_id, ()),
            )
            self._connections[token] = switch
        self._publish(SwitchEvent(SwitchEventKind.UP, switch, now))
        return switch

    def switch_role(self, token: object, datapath_id: int, role: str) -> None:
        with self._lock:
            switch = self._connections.get(token)
            if switch is not None:
                self._connections[token] = replace(switch, role=role)

    def switch_down(self, token: object, datapath_id: int, reason: str) -> Switch | None:
        """Connection ``token`` closed. Returns its switch and publishes "down" when it was the
        last connection of its datapath id; None while another connection keeps the id up."""
        with self._lock:
            switch = self._connections.pop(token, None)
            if switch is None:
                return None
            if any(other.datapath_id == switch.datapath_id for other in self._connections.values()):
                return None
        self._publish(SwitchEvent(SwitchEventKind.DOWN, switch, time.monotonic(), reason))
        return switch
