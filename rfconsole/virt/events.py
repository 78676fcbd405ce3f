"""What the virt layer tells the faces: domain states, lifecycle events, host events, statuses.

Plain, immutable objects: nothing here holds a libvirt handle. Subscribers receive
``DomainEvent`` and ``HostEvent`` objects **on libvirt's event-loop thread**; a UI must hop to
its own thread (Textual: ``App.call_from_thread``) and must not block there.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from rfconsole.model.kinds import Hypervisor


class DomainState(str, Enum):
    """virDomainState, in virsh's words."""

    NOSTATE = "no state"
    RUNNING = "running"
    BLOCKED = "blocked"
    PAUSED = "paused"
    SHUTDOWN = "in shutdown"
    SHUTOFF = "shut off"
    CRASHED = "crashed"
    PMSUSPENDED = "pmsuspended"
    UNDEFINED = "undefined"  # not libvirt's: a VM of XML/ that no host has defined (Fleet.stored_only)
    UNKNOWN = "unknown"  # not libvirt's: a VM of XML/ placed on a host that cannot be reached (Fleet.stored_only)

    @classmethod
    def from_libvirt(cls, number: int) -> DomainState:
        return _STATES[number] if 0 <= number < len(_STATES) else cls.NOSTATE

    @property
    def is_active(self) -> bool:
        """A QEMU/LXC process exists for the domain (libvirt's virDomainIsActive)."""
        return self not in (DomainState.SHUTOFF, DomainState.NOSTATE, DomainState.UNDEFINED, DomainState.UNKNOWN)

    def __str__(self) -> str:
        return self.value


_STATES = [
    DomainState.NOSTATE,
    DomainState.RUNNING,
    DomainState.BLOCKED,
    DomainState.PAUSED,
    DomainState.SHUTDOWN,
    DomainState.SHUTOFF,
    DomainState.CRASHED,
    DomainState.PMSUSPENDED,
]


class EventKind(str, Enum):
    """virDomainEventType: what happened to a domain."""

    DEFINED = "defined"
    UNDEFINED = "undefined"
    STARTED = "started"
    SUSPENDED = "suspended"
    RESUMED = "resumed"
    STOPPED = "stopped"
    SHUTDOWN = "shutdown"
    PMSUSPENDED = "pmsuspended"
    CRASHED = "crashed"

    def __str__(self) -> str:
        return self.value


_KINDS = list(EventKind)

# The detail of each event type (virDomainEvent*DetailType), in libvirt's own words.
_DETAILS: dict[EventKind, tuple[str, ...]] = {
    EventKind.DEFINED: ("added", "updated", "renamed", "from snapshot"),
    EventKind.UNDEFINED: ("removed", "renamed"),
    EventKind.STARTED: ("booted", "migrated", "restored", "from snapshot", "wakeup"),
    EventKind.SUSPENDED: (
        "paused", "migrated", "I/O error", "watchdog", "restored", "from snapshot", "API error", "post-copy", "post-copy failed",
    ),
    EventKind.RESUMED: ("unpaused", "migrated", "from snapshot", "post-copy", "post-copy failed"),
    EventKind.STOPPED: ("shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot"),
    EventKind.SHUTDOWN: ("finished", "guest", "host"),
    EventKind.PMSUSPENDED: ("memory", "disk"),
    EventKind.CRASHED: ("panicked", "crashloaded"),
}


def event_words(event: int, detail: int) -> tuple[EventKind | None, str]:
    """libvirt's (event, detail) numbers as (kind, detail word); kind None for a type newer than us."""
    if not 0 <= event < len(_KINDS):
        return None, str(detail)
    kind = _KINDS[event]
    words = _DETAILS[kind]
    return kind, words[detail] if 0 <= detail < len(words) else str(detail)


@dataclass(frozen=True)
class DomainEvent:
    """One lifecycle event of one domain on one host."""

    host: str
    domain: str
    kind: EventKind
    detail: str
    time: float = field(default_factory=time.time)

    def __str__(self) -> str:
        return f"{self.domain} on {self.host}: {self.kind} ({self.detail})"


@dataclass(frozen=True)
class HostEvent:
    """A host's connection came up or went away (``connected`` False: rfconsole is reconnecting)."""

    host: str
    uri: str
    connected: bool
    reason: str
    time: float = field(default_factory=time.time)

    def __str__(self) -> str:
        return f"host {self.host} ({self.uri}) {'connected' if self.connected else 'disconnected'}: {self.reason}"


@dataclass(frozen=True)
class DomainStatus:
    """One domain as `rfconsole status` shows it. Memory in MiB (2^20 bytes); CPU % of the
    domain's vCPUs over the last sampling interval (0 until two samples exist)."""

    name: str
    host: str
    hypervisor: Hypervisor | None
    state: DomainState
    vcpus: int
    memory_mib: int
    cpu_percent: float
    owned: bool
    demo: bool = False

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["hypervisor"] = self.hypervisor.value if self.hypervisor is not None else None
        data["state"] = self.state.value
        data["cpu_percent"] = round(self.cpu_percent, 1)
        return data


@dataclass(frozen=True)
class HostState:
    """A host as the fleet sees it."""

    name: str
    uri: str
    connected: bool
    demo: bool
    problem: str | None = None
    down_since: float | None = None  # time.time() the host was found unreachable (None: connected, or not tried yet)
    retry_at: float | None = None  # time.time() of the next reconnection attempt (None: none waiting)


@dataclass(frozen=True)
class Outcome:
    """What an operation did: the words the faces print (``str(outcome)``) and where and what as
    fields, so nothing upstream reads them out of the words."""

    words: str
    host: str
    domain: str
    action: str

    def __str__(self) -> str:
        return self.words
