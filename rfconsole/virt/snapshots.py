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

import libvirt

from rfconsole.model.snapshot import check_snapshot_name, default_snapshot_name, parse_snapshot, snapshot_refusal, snapshot_xml
from rfconsole.virt.errors import DomainNotFound, VirtError, translate
from rfconsole.virt.events import DomainState

if TYPE_CHECKING:
    from rfconsole.virt.fleet import Fleet
    from rfconsole.virt.host import Host


class SnapshotRefused(VirtError):
    """The domain's storage or hypervisor cannot hold a snapshot; nothing was touched."""


class SnapshotNotFound(VirtError):
    """The domain has no snapshot of that name (or none at all)."""


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


def list_snapshots(host: Host, domain: libvirt.virDomain) -> list[SnapshotInfo]:
    """The domain's snapshots, oldest first."""
    name = domain.name()
    snapshots = host._call(f"list the snapshots of {name}", domain.listAllSnapshots, 0, domain=name)
    found = []
    for snapshot in snapshots:
        facts = parse_snapshot(host._call(f"read a snapshot of {name}", snapshot.getXMLDesc, 0, domain=name), f"a snapshot of {name}")
        current = host._call(f"read a snapshot of {name}", snapshot.isCurrent, 0, domain=name) == 1
        found.append(SnapshotInfo(name, host.name, facts.name, facts.state, facts.created, facts.memory, current, facts.description))
    return sorted(found, key=lambda info: (info.created is None, info.created or datetime.min, info.name))


def current_snapshot(host: Host, domain: libvirt.virDomain) -> str | None:
    """The name of libvirt's current snapshot of the domain, None when it has none."""
    try:
        return domain.snapshotCurrent(0).getName()
    except libvirt.libvirtError as error:
        if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT:
            return None
        raise translate(error, f"read the current snapshot of {domain.name()}", host.name, host.uri, domain.name()) from None


def _lookup(host: Host, domain: libvirt.virDomain, snapshot: str) -> libvirt.virDomainSnapshot:
    name = domain.name()
    try:
        return domain.snapshotLookupByName(snapshot, 0)
    except libvirt.libvirtError as error:
        if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT:
            names = [info.name for info in list_snapshots(host, domain)]
            raise SnapshotNotFound(
                f"{name} on host {host.name} has no snapshot called {snapshot!r}"
                + (f" (it has: {', '.join(names)})" if names else " (it has none)"),
                f"list them with `rfconsole snapshot list {name}`",
            ) from None
        raise translate(error, f"look up snapshot {snapshot} of {name}", host.name, host.uri, name) from None


def check_storage(host: Host, domain: libvirt.virDomain) -> None:
    """Refuse, naming why, a domain whose storage cannot hold an internal snapshot."""
    name = domain.name()
    running = host.state(name) not in (None, DomainState.SHUTOFF)
    reason = snapshot_refusal(host.document(domain), running)
    if reason:
        raise SnapshotRefused(
            f"cannot snapshot {name} on host {host.name}: {reason}",
            "snapshots need qcow2 disks on kvm or qemu; see docs/images.md",
        )


def create(fleet: Fleet, name: str, snapshot: str | None = None, host: str | None = None,
           force: bool = False, description: str | None = None) -> str:
    chosen, domain = fleet._existing(name, host)
    snapshot = check_snapshot_name(snapshot) if snapshot else default_snapshot_name()
    fleet._require_owned(chosen, domain, "snapshot", force)
    check_storage(chosen, domain)
    if snapshot in {info.name for info in list_snapshots(chosen, domain)}:
        raise VirtError(
            f"{name} on host {chosen.name} already has a snapshot called {snapshot!r}; not replacing it",
            f"choose another name, or delete it first: rfconsole snapshot delete {name} {snapshot}",
        )
    state = chosen.state(name)
    chosen._call(f"snapshot {name}", domain.snapshotCreateXML, snapshot_xml(snapshot, description), 0, domain=name)
    what = "disks and memory" if state is not None and state.is_active else "disks"
    return f"snapshot {snapshot} of {name} taken ({what}, while {state or 'undefined'}) on host {chosen.name}"


def revert(fleet: Fleet, name: str, snapshot: str | None = None, host: str | None = None,
           force: bool = False, running: bool = False, timeout: float | None = None) -> str:
    """Back to ``snapshot`` (default: the current one). With ``running``, the domain runs
    afterwards whatever state the snapshot was taken in."""
    chosen, domain = fleet._existing(name, host)
    fleet._require_owned(chosen, domain, "revert", force)
    if snapshot is None:
        snapshot = current_snapshot(chosen, domain)
        if snapshot is None:
            raise SnapshotNotFound(
                f"{name} on host {chosen.name} has no snapshot to revert to",
                f"take one with `rfconsole snapshot create {name} NAME`",
            )
    target = _lookup(chosen, domain, snapshot)
    flags = libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING if running else 0
    try:
        domain.revertToSnapshot(target, flags)
    except libvirt.libvirtError as error:
        if error.get_error_code() != libvirt.VIR_ERR_SNAPSHOT_REVERT_RISKY:
            raise translate(error, f"revert {name} to snapshot {snapshot}", chosen.name, chosen.uri, name) from None
        # e.g. a running domain back to a snapshot taken while shut off: it must be stopped first
        chosen._call(f"revert {name} to snapshot {snapshot}", domain.revertToSnapshot, target,
                     flags | libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_FORCE, domain=name)
    if running:
        state = chosen.state(name)
        if state is DomainState.PAUSED:
            chosen._call(f"resume {name}", domain.resume, domain=name)
        elif state in (None, DomainState.SHUTOFF):  # drivers that ignore the flag for a shut-off snapshot (test)
            chosen._call(f"start {name}", domain.create, domain=name)
        if timeout is not None:
            chosen.wait_for_state(name, {DomainState.RUNNING}, timeout)
    state = chosen.state(name)
    return f"reverted to snapshot {snapshot}, {state or 'undefined'} on host {chosen.name}"


def delete(fleet: Fleet, name: str, snapshot: str, host: str | None = None, force: bool = False) -> str:
    chosen, domain = fleet._existing(name, host)
    fleet._require_owned(chosen, domain, "delete a snapshot of", force)
    target = _lookup(chosen, domain, check_snapshot_name(snapshot))
    chosen._call(f"delete snapshot {snapshot} of {name}", target.delete, 0, domain=name)
    return f"snapshot {snapshot} of {name} deleted on host {chosen.name}"


def snapshots_of(fleet: Fleet, name: str, host: str | None = None) -> list[SnapshotInfo]:
    chosen, domain = fleet.locate(name, host)
    if domain is None:
        raise DomainNotFound(
            f"{name} is not defined on host {chosen.name}",
            f"define it from XML/ with `rfconsole define {name}`, or use `rfconsole up {name}`",
        )
    return list_snapshots(chosen, domain)
