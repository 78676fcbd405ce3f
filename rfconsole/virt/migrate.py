"""Moving a VM to another host with libvirt's managed migration (``rfconsole migrate``).

Everything that can refuse is checked before libvirt is asked, so a refusal touches nothing:
the domain is rfconsole's (or --force), the target is another, connected host that has no domain
of that name and runs the domain's hypervisor and architecture, and every file the domain
reads (each disk down its backing chain to the base, the kernel and initrd) is already there on
the target. rfconsole copies no storage: the files must be shared, which for two hosts on this
machine means the same paths, and for a remote target a file in one of its storage pools.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rfconsole.errors import RfconsoleError
from rfconsole.images import ImageError, image_info
from rfconsole.model.snapshot import disks
from rfconsole.virt.errors import OperationInvalid
from rfconsole.virt.host import Host, MigrationProgress, uri_is_local
from rfconsole.virt.timeline import Timeline

LIVE, OFFLINE = "live", "offline"


class MigrationRefused(OperationInvalid):
    """A migration rfconsole refuses before asking libvirt (nothing was touched)."""


@dataclass(frozen=True)
class MigrationPlan:
    name: str
    source: Host
    target: Host
    live: bool
    files: tuple[str, ...]  # every file the domain reads, each checked on the target
    storage: str  # how the files reach the target, in words
    timeline: Timeline | None = field(default=None, compare=False, repr=False)  # where migrate() records the move

    @property
    def mode(self) -> str:
        return LIVE if self.live else OFFLINE


@dataclass(frozen=True)
class MigrationDone:
    plan: MigrationPlan
    progress: MigrationProgress

    def words(self) -> str:
        """The move and its figures: how, from where to where, time, downtime, data."""
        plan, progress = self.plan, self.progress
        words = f"migrated {plan.mode} from host {plan.source.name} to host {plan.target.name}"
        words += f" in {progress.elapsed_ms / 1000:.2f} s"
        if progress.downtime_ms is not None:
            words += f", downtime {progress.downtime_ms} ms"
        if progress.data_total:
            words += f", {progress.data_total / 2**20:.1f} MiB transferred"
        return words

    def __str__(self) -> str:
        return f"{self.plan.name} {self.words()}; {self.plan.storage}"


def plan_migration(name: str, source: Host, target: Host, mode: str | None, check_owned: Callable[[], None]) -> MigrationPlan:
    """The checked migration of ``name`` from ``source`` (the host that has it defined) to
    ``target`` (Fleet.plan_migration finds both); MigrationRefused (or another VirtError) saying
    why not. ``mode``: live, offline, or None for what the domain's state allows;
    ``check_owned`` refuses a domain that is not rfconsole's (unless forced)."""
    if target is source:
        raise MigrationRefused(f"{name} is already on host {target.name} ({target.uri})", host=target.name, domain=name)
    check_owned()
    state = source.state(name)
    running = state is not None and state.is_active
    if mode == OFFLINE and running:
        raise MigrationRefused(
            f"refusing to migrate {name} offline: it is {state} on host {source.name}",
            f"migrate it running with `rfconsole migrate {name} {target.name} --live`, or shut it down first",
            host=source.name, domain=name,
        )
    if mode == LIVE and not running:
        raise MigrationRefused(
            f"refusing to migrate {name} live: it is {state} on host {source.name}",
            f"a shut-off VM moves with `rfconsole migrate {name} {target.name} --offline`",
            host=source.name, domain=name,
        )
    if target.exists(name):
        raise MigrationRefused(
            f"host {target.name} ({target.uri}) already has a domain named {name}",
            f"undefine it there first (rfconsole undefine {name} --host {target.name}) if it is a stale copy",
            host=target.name, domain=name,
        )
    document = source.document(name)
    _check_platform(name, document.hypervisor, document.values().get("arch"), source, target)
    files = _files_read(document)
    storage = _check_storage(name, files, source, target)
    return MigrationPlan(name, source, target, running, tuple(files), storage)


def migrate(plan: MigrationPlan, on_progress: Callable[[MigrationProgress], None] = lambda _progress: None) -> MigrationDone:
    """Run a checked migration, telling its progress; the VM is then defined on the target only."""
    try:
        progress = plan.source.migrate(plan.name, plan.target, plan.live, on_progress)
    except RfconsoleError as error:
        if plan.timeline is not None:
            plan.timeline.record("operation", plan.name, f"migrate {plan.mode} to host {plan.target.name} failed: {error.message}",
                                 host=plan.source.name, action="migrate", source=plan.source.name, target=plan.target.name,
                                 mode=plan.mode)
        raise
    done = MigrationDone(plan, progress)
    if plan.timeline is not None:
        plan.timeline.record("operation", plan.name, f"migrate: {done.words()}", host=plan.target.name, action="migrate",
                             source=plan.source.name, target=plan.target.name, mode=plan.mode,
                             elapsed_s=round(progress.elapsed_ms / 1000, 3), downtime_ms=progress.downtime_ms,
                             data_bytes=progress.data_total)
    return done


def record_refusal(timeline: Timeline | None, name: str, source: str | None, target: str, mode: str | None,
                   error: RfconsoleError) -> None:
    """A migration refused before libvirt was asked (nothing touched), on the timeline."""
    if timeline is not None:
        timeline.record("operation", name, f"migrate to host {target} refused: {error.message}", host=source, action="migrate",
                        source=source, target=target, mode=mode)


def _check_platform(name: str, hypervisor, arch: str | None, source: Host, target: Host) -> None:
    if hypervisor is None:
        raise MigrationRefused(f"{name}: its <domain type=…> is missing or unknown", host=source.name, domain=name)
    capabilities = target.host_capabilities()
    reason = capabilities.reason(hypervisor)
    if reason:
        raise MigrationRefused(f"refusing to migrate {name} ({hypervisor}) to host {target.name}: {reason}", host=target.name, domain=name)
    wanted = arch or source.host_capabilities().host_arch or "x86_64"
    offered = capabilities.archs_for(hypervisor)
    if wanted not in offered:
        raise MigrationRefused(
            f"refusing to migrate {name} to host {target.name}: it is a {wanted} guest and host {target.name} runs "
            f"{hypervisor} guests of {', '.join(offered) or 'no architecture'} only",
            host=target.name, domain=name,
        )


def _files_read(document) -> list[str]:
    """Each file disk down its backing chain (overlay, then base), then the kernel and initrd."""
    files: list[str] = []
    for disk in disks(document):
        if disk.kind != "file" or not disk.path:
            continue
        try:
            chain = [str(path) for path in image_info(disk.path).chain]
        except ImageError:
            chain = [disk.path]  # a raw or unreadable file: its own path is what the target needs
        files += [path for path in chain if path not in files]
    boot = document.values().get("kernel_boot") or {}
    files += [path for path in (boot.get("kernel"), boot.get("initrd")) if path and path not in files]
    return files


def _check_storage(name: str, files: list[str], source: Host, target: Host) -> str:
    if uri_is_local(target.uri) and uri_is_local(source.uri):
        missing = [path for path in files if not Path(path).exists()]
        where = "shared: both hosts are on this machine, the same paths"
    else:
        missing = [path for path in files if not target.has_storage_volume(path)]
        where = f"shared: each file is in a storage pool of host {target.name}"
    if missing:
        raise MigrationRefused(
            f"refusing to migrate {name} to host {target.name}: its storage is not there: {', '.join(missing)} "
            "(rfconsole copies no storage: an overlay's backing base must exist on the target too)",
            f"put the files on storage host {target.name} shares (the same paths, in one of its storage pools), then migrate",
            host=target.name, domain=name,
        )
    return f"storage {where} ({len(files)} file{'s' if len(files) != 1 else ''} checked)"
