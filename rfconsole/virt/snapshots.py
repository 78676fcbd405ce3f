"""Snapshots of a domain through libvirt's snapshot API: list, create, revert, delete.

Internal qcow2 snapshots (see docs/images.md for why and for the measurements): a running VM's
snapshot holds its memory too, so reverting resumes the guest where it was. Every refusal
(rfconsole's ownership, storage that cannot hold a snapshot, a name that exists or does not)
comes before libvirt is asked to change anything. Reached through ``Fleet.snapshot_*``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rfconsole.model.snapshot import check_snapshot_name, default_snapshot_name, parse_snapshot, snapshot_refusal, snapshot_xml
from rfconsole.virt.errors import DomainNotFound, SnapshotNotFound, VirtError
from rfconsole.virt.events import DomainState, Outcome

if TYPE_CHECKING:
    from rfconsole.virt.fleet import Fleet
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


def create(fleet: Fleet, name: str, snapshot: str | None = None, host: str | None = None,
           force: bool = False, description: str | None = None) -> Outcome:
    chosen = fleet._existing(name, host)
    snapshot = check_snapshot_name(snapshot) if snapshot else default_snapshot_name()
    fleet._require_owned(chosen, name, "snapshot", force)
    check_storage(chosen, name)
    if snapshot in {info.name for info in list_snapshots(chosen, name)}:
        raise VirtError(
            f"{name} on host {chosen.name} already has a snapshot called {snapshot!r}; not replacing it",
            f"choose another name, or delete it first: rfconsole snapshot delete {name} {snapshot}",
        )
    state = chosen.state(name)
    chosen.snapshot_create(name, snapshot_xml(snapshot, description))
    what = "disks and memory" if state is not None and state.is_active else "disks"
    return Outcome(f"snapshot {snapshot} of {name} taken ({what}, while {state or 'undefined'}) on host {chosen.name}",
                   host=chosen.name, domain=name, action="snapshot create")


def revert(fleet: Fleet, name: str, snapshot: str | None = None, host: str | None = None,
           force: bool = False, running: bool = False, timeout: float | None = None) -> Outcome:
    """Back to ``snapshot`` (default: the current one). With ``running``, the domain runs
    afterwards whatever state the snapshot was taken in."""
    chosen = fleet._existing(name, host)
    fleet._require_owned(chosen, name, "revert", force)
    if snapshot is None:
        snapshot = chosen.current_snapshot(name)
        if snapshot is None:
            raise SnapshotNotFound(
                f"{name} on host {chosen.name} has no snapshot to revert to",
                f"take one with `rfconsole snapshot create {name} NAME`",
            )
    chosen.snapshot_revert(name, snapshot, running)
    if running:
        state = chosen.state(name)
        if state is DomainState.PAUSED:
            chosen.resume(name)
        elif state in (None, DomainState.SHUTOFF):  # drivers that ignore the flag for a shut-off snapshot (test)
            chosen.start(name)
        if timeout is not None:
            chosen.wait_for_state(name, {DomainState.RUNNING}, timeout)
    state = chosen.state(name)
    return Outcome(f"reverted to snapshot {snapshot}, {state or 'undefined'} on host {chosen.name}",
                   host=chosen.name, domain=name, action="snapshot revert")


def delete(fleet: Fleet, name: str, snapshot: str, host: str | None = None, force: bool = False) -> Outcome:
    chosen = fleet._existing(name, host)
    fleet._require_owned(chosen, name, "delete a snapshot of", force)
    chosen.snapshot_delete(name, check_snapshot_name(snapshot))
    return Outcome(f"snapshot {snapshot} of {name} deleted on host {chosen.name}", host=chosen.name, domain=name, action="snapshot delete")


def snapshots_of(fleet: Fleet, name: str, host: str | None = None) -> list[SnapshotInfo]:
    chosen, known = fleet.locate(name, host)
    if known is None:
        raise DomainNotFound(
            f"{name} is not defined on host {chosen.name}",
            f"define it from XML/ with `rfconsole define {name}`, or use `rfconsole up {name}`",
        )
    return list_snapshots(chosen, name)
