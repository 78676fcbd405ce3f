"""Reset a VM to a clean state, then running: back to a snapshot, or onto a fresh overlay of its
base. ``Fleet.reset`` (one VM) is what ``run_many("reset", names)`` runs for many at once.

Which clean state: the snapshot named with ``snapshot``; else libvirt's current snapshot of the
domain (the last taken or reverted to); else every overlay disk replaced by an empty overlay of
the same base. A VM with neither is refused, saying so, before anything is touched.

The on-demand booter may start the VM while it is reset (its switch connects in between): a
start between the destroy and the new overlay is undone (destroyed again, so the guest opens the
new file), a start after it is simply found running.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rfconsole.defaults import START_TIMEOUT
from rfconsole.images import ImageError, Images, fresh_overlay, image_info
from rfconsole.model.kinds import Hypervisor
from rfconsole.model.snapshot import disks
from rfconsole.virt import snapshots
from rfconsole.virt.errors import OperationInvalid, VirtError
from rfconsole.virt.events import DomainState, Outcome

if TYPE_CHECKING:
    from rfconsole.store import Workdir
    from rfconsole.virt.host import Host


class NothingToReset(VirtError):
    """The VM has no snapshot and no overlay disk: there is no clean state to go back to."""


def overlay_disks(images: Images, host: Host, name: str) -> list[tuple[str, Path, Path]]:
    """(target, overlay, base) of each writable qcow2 disk of the domain that has a backing file;
    NothingToReset, before anything is touched, when one of them is not an overlay of a base
    that ``images`` (the working folder's Images/) made: that disk holds data of its own."""
    found = []
    for disk in disks(host.document(name, inactive=True)):
        if not disk.writable or disk.kind != "file" or disk.format != "qcow2" or not disk.path:
            continue
        try:
            info = image_info(disk.path)
        except ImageError as error:
            raise NothingToReset(
                f"cannot reset {name} on host {host.name}: its disk {disk.target} cannot be read safely: {error.message}; nothing was touched",
                "fix the disk's image, or take a snapshot of the clean state and reset to it",
            ) from None
        if info.backing is None:
            continue
        refusal = images.reset_refusal(info.path)
        if refusal:
            raise NothingToReset(
                f"cannot reset {name} on host {host.name}: its disk {disk.target}: {refusal}; nothing was touched "
                "(a fresh overlay would drop what is in it)",
                f"take a snapshot of its clean state instead (rfconsole snapshot create {name} clean), or give it an overlay "
                "of a registered base (rfconsole image base FILE, then rfconsole xml new … --base NAME)",
            )
        found.append((disk.target, info.path, info.backing))
    return found


def reset(
    host: Host,
    name: str,
    workdir: Workdir | None,
    snapshot: str | None = None,
    timeout: float = START_TIMEOUT,
    stage: Callable[[str], None] | None = None,
) -> Outcome:
    """Reset ``name``, defined on ``host`` (the caller defined it if needed and checked
    ownership); ``workdir``: the working folder whose Images/ made the bases."""
    tell = stage or (lambda _stage: None)
    if host.document(name, inactive=True).hypervisor is Hypervisor.LXC:
        raise NothingToReset(
            f"cannot reset {name} on host {host.name}: it is an LXC container, which has neither snapshots nor overlays",
            f"redeploy it instead: rfconsole redeploy {name}",
        )
    target = snapshot or host.current_snapshot(name)
    if target is not None:
        tell("revert")
        snapshots.revert(host, name, target, running=True, timeout=timeout)
        return Outcome(f"reverted to snapshot {target}, running on host {host.name}", host=host.name, domain=name, action="reset")
    if workdir is None:
        raise NothingToReset(f"cannot reset {name} on host {host.name}: it has no snapshot, and there is no working folder whose Images/ made its base")
    return _onto_fresh_overlays(Images(workdir), host, name, timeout, tell)


def _onto_fresh_overlays(images: Images, chosen: Host, name: str, timeout: float, tell: Callable[[str], None]) -> Outcome:
    overlays = overlay_disks(images, chosen, name)
    if not overlays:
        raise NothingToReset(
            f"cannot reset {name} on host {chosen.name}: it has no snapshot, and no disk that is an overlay of a base",
            f"take a snapshot of its clean state (rfconsole snapshot create {name} clean), "
            "or give it an overlay of a base (rfconsole xml new … --base NAME)",
        )
    if not chosen.is_local:
        raise NothingToReset(
            f"cannot reset {name} on host {chosen.name} ({chosen.uri}) onto a fresh overlay: its image files are on that host, "
            "and rfconsole makes overlays on this machine only",
            f"take a snapshot of its clean state instead: rfconsole snapshot create {name} clean",
        )
    for _ in range(2):  # a second round only when something started the guest on the old overlay
        if _active(chosen, name):
            tell("destroy")
            chosen.destroy(name)
            chosen.wait_for_state(name, {DomainState.SHUTOFF}, timeout)
        tell("overlay")
        for _, overlay, _ in overlays:
            fresh_overlay(overlay)
        if not _active(chosen, name):
            break
    tell("start")
    try:
        chosen.start(name)
    except OperationInvalid:
        if not _active(chosen, name):
            raise  # not "already running": a real refusal
    chosen.wait_for_state(name, {DomainState.RUNNING}, timeout)
    bases = sorted({base.name for _target, _overlay, base in overlays})
    return Outcome(f"fresh overlay of {', '.join(bases)}, running on host {chosen.name}", host=chosen.name, domain=name, action="reset")


def _active(host: Host, name: str) -> bool:
    state = host.state(name)
    return state is not None and state.is_active

