"""Snapshots of a domain through libvirt's snapshot API: list, create, revert, delete.

Internal qcow2 snapshots (see docs/images.md for why and for the measurements): a running VM's
snapshot holds its memory too, so reverting resumes the guest where it was. Every refusal
(rfconsole's ownership, storage that cannot hold a snapshot, a name that exists or does not)
comes before libvirt is asked to change anything. Reached through ``Fleet.snapshot_*``, which finds
the host and checks rfconsole's ownership; these functions take the Host.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rfconsole.model.snapshot import (
    check_snapshot_name,
    parse_snapshot,
    snapshot_refusal,
    snapshot_xml,
)
from rfconsole.virt.errors import SnapshotNotFound, VirtError
from rfconsole.virt.events import DomainState, Outcome

if TYPE_CHECKING:
    from rfconsole.virt.host import Host


class SnapshotRefused(VirtError):
    """The domain's storage or hypervisor cannot hold a snapshot; nothing was touched."""


@dataclass(frozen=True)
class SnapshotInfo:
    """One snapshot of a domain, for the faces."""

    domain: str
    host: str
    name: str
    state: str  # the domain's state when it was taken (libvirt's words: running, shutoff …)
    created: datetime | None
    memory: bool  # reverting resumes the guest where it was
    current: bool  # libvirt's current snapshot: the last one taken or reverted to
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "host": self.host,
            "name": self.name,
            "state": self.state,
            "created": self.created.isoformat() if self.created else None,
            "memory": self.memory,
            "current": self.current,
            "description": self.description,
        }


def list_snapshots(host: Host, name: str) -> list[SnapshotInfo]:
    """The domain's snapshots, oldest first."""
    found = []
    for text, current in host.snapshot_descriptions(name):
        facts = parse_snapshot(text, f"a snapshot of {name}")
        found.append(SnapshotInfo(name, host.name, facts.name, facts.state, facts.created, facts.memory, current, facts.description))
    return sorted(found, key=lambda info: (info.created is None, info.created or datetime.min, info.name))


def check_storage(host: Host, name: str) -> None:
    """Refuse, naming why, a domain whose storage cannot hold an internal snapshot."""
    running = host.state(name) not in (None, DomainState.SHUTOFF)
    reason = snapshot_refusal(host.document(name), running)
    if reason:
        raise SnapshotRefused(
            f"cannot snapshot {name} on host {host.name}: {reason}",
            "snapshots need qcow2 disks on kvm or qemu; see docs/images.md",
        )


def create(host: Host, name: str, snapshot: str, description: str | None = None) -> Outcome:
    """Take snapshot ``snapshot`` (a checked name) of ``name``: the caller checked ownership."""
    check_storage(host, name)
    if snapshot in {info.name for info in list_snapshots(host, name)}:
        raise VirtError(
            f"{name} on host {host.name} already has a snapshot called {snapshot!r}; not replacing it",
            f"choose another name, or delete it first: rfconsole snapshot delete {name} {snapshot}",
        )
    state = host.state(name)
    host.snapshot_create(name, snapshot_xml(snapshot, description))
    what = "disks and memory" if state is not None and state.is_active else "disks"
    return Outcome(f"snapshot {snapshot} of {name} taken ({what}, while {state or 'undefined'}) on host {host.name}",
                   host=host.name, domain=name, action="snapshot create")


def revert(host: Host, name: str, snapshot: str | None = None, running: bool = False, timeout: float | None = None) -> Outcome:
    """Back to ``snapshot`` (default: the current one); the caller checked ownership. With
    ``running``, the domain runs afterwards whatever state the snapshot was taken in."""
    if snapshot is None:
        snapshot = host.current_snapshot(name)
        if snapshot is None:
            raise SnapshotNotFound(
                f"{name} on host {host.name} has no snapshot to revert to",
                f"take one with `rfconsole snapshot create {name} NAME`",
            )
    host.snapshot_revert(name, snapshot, running)
    if running:
        state = host.state(name)
        if state is DomainState.PAUSED:
            host.resume(name)
        elif state in (None, DomainState.SHUTOFF):  # drivers that ignore the flag for a shut-off snapshot (test)
            host.start(name)
        if timeout is not None:
            host.wait_for_state(name, {DomainState.RUNNING}, timeout)
    state = host.state(name)
    return Outcome(f"reverted to snapshot {snapshot}, {state or 'undefined'} on host {host.name}",
                   host=host.name, domain=name, action="snapshot revert")


def delete(host: Host, name: str, snapshot: str) -> Outcome:
    """Delete snapshot ``snapshot`` of ``name``; the caller checked ownership."""
    host.snapshot_delete(name, check_snapshot_name(snapshot))
    return Outcome(f"snapshot {snapshot} of {name} deleted on host {host.name}", host=host.name, domain=name, action="snapshot delete")
