"""All hosts and the placement of VMs on them, and the lifecycle of each VM.

Every operation checks before it touches anything: the hypervisor the XML asks for must be one
the host really runs, the files the VM needs must exist (except on the test driver, where nothing
runs), and a domain without rfconsole's ownership mark is never destroyed, undefined or
redefined unless ``force=True``. Operations return a short outcome in words and raise
RfconsoleError subclasses (see rfconsole/virt/errors.py). ``run_many`` runs one operation on
several VMs concurrently.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec

from rfconsole.config import Config
from rfconsole.defaults import SHUTDOWN_TIMEOUT, START_TIMEOUT
from rfconsole.errors import RfconsoleError
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.kinds import Hypervisor, missing_paths
from rfconsole.model.rftest2 import RFTEST2_VMS
from rfconsole.model.schema import SchemaUnavailable, schema_problems
from rfconsole.virt.demo import DEMO_HOST, demo_uri
from rfconsole.virt.errors import (
    DomainNotFound,
    HostUnavailable,
    HypervisorUnavailable,
    InvalidDefinition,
    MissingFiles,
    NotOwned,
    OperationInvalid,
    VirtError,
)
from rfconsole.virt.events import DomainState, DomainStatus, HostState, Outcome
from rfconsole.virt.host import Host, Subscriber
from rfconsole.virt.migrate import MigrationPlan, plan_migration, record_refusal
from rfconsole.virt.stats import DomainCounters
from rfconsole.virt.timeline import LifecycleRecorder, Timeline

# The console, the details view and snapshots are imported by the methods that use them: status,
# up and redeploy do not pay for them (docs/performance.md, "Start-up").
if TYPE_CHECKING:
    from rfconsole.store import Store
    from rfconsole.virt.console import Console, NoticeCallback, OutputCallback
    from rfconsole.virt.details import VmDetails
    from rfconsole.virt.snapshots import SnapshotInfo
    from rfconsole.virt.writers import WritersFound

DEFAULT_VMS = tuple(RFTEST2_VMS)  # rftest2's rfvmA–rfvmD
REDEPLOY_STAGES = ("destroy", "undefine", "define", "start")
OPERATIONS = ("up", "down", "define", "start", "shutdown", "destroy", "undefine", "suspend", "resume", "reboot", "power_cycle", "redeploy", "reset")
STAGED_OPERATIONS = ("up", "down", "redeploy", "shutdown", "reset")  # the long ones: they tell each step as it begins

DocumentLike = DomainDocument | str | os.PathLike


@dataclass(frozen=True)
class OperationResult:
    """One VM's outcome in ``run_many``: ``message`` is the outcome or the error's message."""

    name: str
    operation: str
    ok: bool
    message: str
    elapsed: float
    error: BaseException | None = None

    @property
    def hint(self) -> str | None:
        return getattr(self.error, "hint", None)


_Arguments = ParamSpec("_Arguments")
_Operation = Callable[Concatenate["Fleet", _Arguments], Outcome]


_recording = threading.local()  # depth of recorded operations running in this thread


def _on_timeline(action: str) -> Callable[[_Operation[_Arguments]], _Operation[_Arguments]]:
    """The operation, done or refused, recorded on the working folder's timeline with its host;
    only the outermost one (down's shutdown is down's, not an operation of its own)."""

    def decorate(operation: _Operation[_Arguments]) -> _Operation[_Arguments]:
        @functools.wraps(operation)
        def recorded(fleet: Fleet, *args: _Arguments.args, **kwargs: _Arguments.kwargs) -> Outcome:
            depth = getattr(_recording, "depth", 0)
            _recording.depth = depth + 1
            timeline = fleet.timeline if depth == 0 else None
            try:
                outcome = operation(fleet, *args, **kwargs)
            except RfconsoleError as error:
                if timeline is not None:
                    target = args[0] if args else kwargs.get("name", kwargs.get("target", "?"))
                    subject = target if isinstance(target, str) else str(getattr(target, "name", None) or "?")
                    timeline.record("operation", subject, f"{action} failed: {error.message}", host=getattr(error, "host", None),
                                    action=action)
                raise
            finally:
                _recording.depth = depth
            if timeline is not None:
                timeline.record("operation", outcome.domain, f"{action}: {outcome.words}", host=outcome.host, action=action)
            return outcome

        return recorded

    return decorate


class Fleet:
    """The configured hosts (or one forced host, or the demo) and the lifecycle of VMs on them."""

    def __init__(self, config: Config | None, store: Store | None, *, demo: bool = False, connect: str | None = None,
                 read_only: bool = False) -> None:
        """``config`` None: the defaults; ``store`` None: no working folder (what needs XML/ refuses);
        ``read_only``: every host through libvirt's read-only connection (reads, refuses changes)."""
        self.config = config if config is not None else Config()
        self.store = store
        self.demo = demo
        self.read_only = read_only
        if demo:
            hosts = [Host(DEMO_HOST, demo_uri(), demo=True, read_only=read_only)]
        elif connect:
            name = config.host_name_for_uri(connect) if config is not None else None
            hosts = [Host(name or connect, connect, demo=connect == demo_uri(), read_only=read_only)]
        else:
            hosts = [Host(name, uri, read_only=read_only) for name, uri in self.config.hosts.items()]
            default = self.config.default_host
            hosts.sort(key=lambda host: host.name != default)  # the default host is searched first
        self._hosts: dict[str, Host] = {host.name: host for host in hosts}
        # the working folder's event timeline (virt/timeline.py): not for the demo, nor outside a working
        # folder, nor in a read-only session (which changes nothing, the working folder included)
        in_folder = store is not None and store.workdir.xml_dir.is_dir() and not any(host.demo for host in hosts)
        self.timeline: Timeline | None = Timeline(store.workdir.root) if in_folder and store is not None and not read_only else None
        self._recorder: LifecycleRecorder | None = None

    @classmethod
    def from_args(cls, config: Config | None, store: Store | None, *, demo: bool = False, connect: str | None = None,
                  read_only: bool = False) -> Fleet:
        """What the faces open: the demo with --demo, or when there is neither --connect nor an
        rfconsole.toml in the working folder; one host with --connect; else the configured hosts."""
        use_demo = demo or (connect is None and not getattr(config, "found", False))
        return cls(config, store, demo=use_demo, connect=None if use_demo else connect, read_only=read_only)

    @property
    def stats_interval(self) -> float:
        """Seconds between CPU/memory samples (rfconsole.toml's stats_interval): how often a
        face should read statuses() for CPU % to mean something."""
        return float(self.config.stats_interval)

    # ------------------------------------------------------------------ hosts
    def host_names(self) -> list[str]:
        return list(self._hosts)

    def hosts(self) -> list[Host]:
        return list(self._hosts.values())

    def host(self, name: str | None = None) -> Host:
        """The host called ``name``; with None, the only host or the default one."""
        if name is None:
            if len(self._hosts) == 1:
                return next(iter(self._hosts.values()))
            name = self.config.default_host
        try:
            return self._hosts[name]
        except KeyError:
            raise RfconsoleError(
                f"no host named {name!r}: the hosts are {', '.join(self._hosts)}",
                hint="hosts come from [hosts] in rfconsole.toml, or --connect URI",
                console_hint="hosts come from [hosts] in rfconsole.toml, or rfconsole --connect URI when the console starts",
            ) from None

    def host_states(self) -> list[HostState]:
        return [
            HostState(host.name, host.uri, host.connected, host.demo, host.problem, host.down_since, host.retry_at)
            for host in self._hosts.values()
        ]

    def placed_host(self, name: str, hypervisor: Hypervisor | None = None) -> Host:
        """Where a VM not yet defined anywhere goes: its placement, else by its hypervisor."""
        if len(self._hosts) == 1:
            return self.host()
        placed = self.config.placement.get(name) or self.config.host_for_hypervisor(hypervisor)
        return self.host(placed)

    def locate(self, name: str, host: str | None = None) -> tuple[Host, str | None]:
        """The host of VM ``name`` and ``name`` when that host has it defined (None when not): the
        given host, else its placement, else the first reachable host that knows it, else the
        default host."""
        if host is not None or len(self._hosts) == 1:
            chosen = self.host(host)
            return chosen, _known(chosen, name)
        if name in self.config.placement:
            chosen = self.host(self.config.placement[name])
            return chosen, _known(chosen, name)
        problems = []
        for candidate in self._hosts.values():
            try:
                known = _known(candidate, name)
            except HostUnavailable as problem:
                problems.append(problem)
                continue
            if known is not None:
                return candidate, known
        if len(problems) == len(self._hosts):
            raise problems[0]
        return self.host(), None

    def details(self, name: str, host: str | None = None) -> VmDetails:
        """Everything rfconsole can tell about VM ``name`` (rfconsole/virt/details.py)."""
        from rfconsole.virt.details import gather as gather_details

        chosen, domain = self.locate(name, host)
        if domain is None:
            raise DomainNotFound(f"host {chosen.name} ({chosen.uri}) has no domain named {name}")
        return gather_details(chosen, name, self.store, self.config.ondemand.routeflow_config)

    def console(
        self,
        name: str,
        host: str | None = None,
        *,
        on_output: OutputCallback,
        on_notice: NoticeCallback | None = None,
        force: bool = False,
        follow: bool = False,
    ) -> Console:
        """VM ``name``'s console, attached (see rfconsole/virt/console.py); raises ConsoleNotRunning,
        ConsoleBusy, ConsoleUnavailable, DomainNotFound or HostUnavailable."""
        chosen, domain = self.locate(name, host)
        if domain is None:
            raise DomainNotFound(
                f"host {chosen.name} ({chosen.uri}) has no domain named {name}",
                f"define and start it first: rfconsole up {name}",
            )
        from rfconsole.virt.console import Console

        console = Console(chosen, name, on_output, on_notice, force=force, follow=follow)
        console.open()
        return console

    # ------------------------------------------------------------------ events and statuses
    def subscribe(self, callback: Subscriber) -> None:
        """``callback(event)`` for every DomainEvent and HostEvent of every host, called on
        libvirt's event-loop thread: hop to your own thread, never block there."""
        for host in self._hosts.values():
            host.subscribe(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        for host in self._hosts.values():
            host.unsubscribe(callback)

    def statuses(self) -> list[DomainStatus]:
        """Every domain of every reachable host (unreachable hosts are left out: see host_states)."""
        return self.collect_statuses()[0]

    def collect_statuses(self, sample_cpu: float = 0.0) -> tuple[list[DomainStatus], list[VirtError]]:
        """(statuses, one error per unreachable host). With ``sample_cpu`` seconds, running domains
        without a CPU sample get one first, so their CPU % covers that interval."""
        problems: list[VirtError] = []
        if sample_cpu > 0:
            try:
                if any(host.needs_cpu_sample() for host in self._reachable()):
                    time.sleep(sample_cpu)
            except VirtError:
                pass
        statuses = []
        for host in self._hosts.values():
            try:
                statuses.extend(host.statuses())
            except VirtError as problem:
                problems.append(problem)
        return statuses, problems

    def domain_counters(self) -> tuple[list[DomainCounters], list[VirtError]]:
        """(every reachable host's domain counters, one bulk call per host; one error per
        unreachable host): a tick of virt/stats.py's ResourceHistory."""
        counters: list[DomainCounters] = []
        problems: list[VirtError] = []
        for host in self._hosts.values():
            try:
                counters.extend(host.domain_counters())
            except VirtError as problem:
                problems.append(problem)
        return counters, problems

    def lab_statuses(self, sample_cpu: float = 0.0) -> tuple[list[DomainStatus], list[VirtError]]:
        """What the lab holds, as `status` and the console list it: every reachable host's domains,
        then the VMs of XML/ no host has defined (undefined, or unknown on a host that cannot be
        reached); and one error per unreachable host."""
        statuses, problems = self.collect_statuses(sample_cpu)
        return statuses + self.stored_only(statuses), problems

    def _reachable(self) -> list[Host]:
        reachable = []
        for host in self._hosts.values():
            try:
                host.connect()
                reachable.append(host)
            except VirtError:
                continue
        return reachable

    def status(self, name: str, host: str | None = None) -> DomainStatus | None:
        chosen, domain = self.locate(name, host)
        return None if domain is None else chosen.status(name)

    def has_domain(self, name: str, host: str | None = None) -> bool:
        return self.locate(name, host)[1] is not None

    def is_running(self, name: str, host: str | None = None) -> bool:
        chosen, domain = self.locate(name, host)
        return domain is not None and chosen.state(name) is DomainState.RUNNING

    def live_xml(self, name: str, host: str | None = None) -> str | None:
        chosen, domain = self.locate(name, host)
        return None if domain is None else chosen.live_xml(name)

    def record_lifecycle_events(self) -> None:
        """Every host's lifecycle events on the timeline while this fleet is open (the console and
        ``rfconsole watch`` do this), each host's by one process of the folder at a time: the
        holder of its recorder role (timeline.LifecycleRecorder). Nothing without a timeline."""
        if self.timeline is None or self._recorder is not None:
            return
        self._recorder = LifecycleRecorder(self.timeline, {host.name: host.uri for host in self._hosts.values()})
        self.subscribe(self._recorder)

    def close(self) -> None:
        if self._recorder is not None:  # first: the hosts closed, it would hold roles while seeing nothing
            self._recorder.close()
        for host in self._hosts.values():
            host.close()

    # ------------------------------------------------------------------ checks (nothing touched)
    def document_of(self, target: DocumentLike) -> DomainDocument:
        """``target`` itself when a DomainDocument, else the VM name / path in XML/ read."""
        if isinstance(target, DomainDocument):
            return target
        if self.store is None:
            raise RfconsoleError(f"no working folder to read {target} from")
        return self.store.load(target)

    def check_hypervisor(self, document: DomainDocument, host: Host) -> None:
        hypervisor = document.hypervisor
        if hypervisor is None:
            raise HypervisorUnavailable(
                f"{document.name}: <domain type=…> is missing or unknown; rfconsole runs kvm, qemu, lxc and test domains",
            )
        reason = host.host_capabilities().reason(hypervisor)
        if reason:
            others = [name for name, other in self._hosts.items() if other is not host and _offers(other, hypervisor)]
            raise HypervisorUnavailable(
                f"cannot run {document.name} ({hypervisor}) on host {host.name} ({host.uri}): {reason}",
                f"place it on host {others[0]} in rfconsole.toml [placement]" if others
                else f"change its hypervisor (rfconsole xml set {document.name} hypervisor=…) or use a host that runs {hypervisor}",
            )

    def check_files(self, document: DomainDocument, starting: bool = True) -> None:
        """Refuse a VM whose image, kernel or initrd is missing. The test driver runs nothing, so
        its VMs may be defined without their files, but are not started without them (as a real
        host would refuse them)."""
        if document.hypervisor is Hypervisor.TEST and not starting:
            return
        values = document.values()  # the paths as written: no need to build (and import) the whole spec model
        boot = values["kernel_boot"] or {}
        problems = missing_paths(values["image"], values["image_kind"], boot.get("kernel"), boot.get("initrd"))
        if problems:
            raise MissingFiles(
                f"{document.name}: refusing to define or start it: " + "; ".join(str(problem) for problem in problems),
                "put the file in place (images usually live in Images/), or change the path with `rfconsole xml set`",
            )

    @staticmethod
    def _check_schema_before_destroying(document: DomainDocument) -> bool:
        """libvirt validates a definition only at define, after redeploy's destroy: a file it
        would refuse is refused here, while the running domain is still untouched. True when
        the check ran (libvirt's schema file is there) and passed."""
        try:
            problems = schema_problems(document)
        except SchemaUnavailable:
            return False  # libvirt still validates it when defining (VIR_DOMAIN_DEFINE_VALIDATE)
        if problems:
            where = "its XML" if document.source.startswith("<") else document.source  # "<new>", "<input>": not a file
            raise InvalidDefinition(
                f"refusing to redeploy {document.name}: {where} does not follow libvirt's domain schema: "
                + "; ".join(str(problem) for problem in problems),
                "check the file with `rfconsole xml validate`; nothing was touched",
            )
        return True

    def require_owned(self, host: Host, name: str, doing: str, force: bool, why: str = "") -> None:
        """Refuse ``doing`` (a verb) on a domain without rfconsole's mark unless ``force``;
        ``why`` (" after …") says what led to it."""
        if force or host.is_owned(name):
            return
        raise NotOwned(
            f"refusing to {doing} {name} on host {host.name} ({host.uri}){why}: it does not carry rfconsole's ownership mark, "
            "so rfconsole did not make it",
            f"to {doing} it anyway, repeat with --force (in the console, confirm the prompt naming {name})",
        )

    def plan_migration(self, name: str, target: str, mode: str | None = None, force: bool = False) -> MigrationPlan:
        """``rfconsole migrate``'s checks (virt/migrate.py): VM ``name`` from the host that has it to
        host ``target``; MigrationRefused saying why not, with nothing touched."""
        source: Host | None = None
        try:
            source = self.existing_host(name)
            found = source
            plan = plan_migration(name, found, self.host(target), mode, lambda: self.require_owned(found, name, "migrate", force))
        except RfconsoleError as refused:
            record_refusal(self.timeline, name, source.name if source is not None else None, target, mode, refused)
            raise
        return replace(plan, timeline=self.timeline)

    # ------------------------------------------------------------------ lifecycle
    @_on_timeline("define")
    def define(self, target: DocumentLike, host: str | None = None, force: bool = False) -> Outcome:
        """Define the domain of ``target`` (a DomainDocument, or a VM name / path in XML/) with
        libvirt's validation; marks it as rfconsole's. An existing definition not owned by
        rfconsole is replaced only with ``force``. Under the VM's lock, as up, reset and redeploy."""
        document = self.document_of(target)
        name = self._name_of(document)
        with self._vm_locked(name):
            return self._define_one(document, name, host, force)

    def _define_one(self, document: DomainDocument, name: str, host: str | None, force: bool) -> Outcome:
        chosen = self.host(host) if host is not None else self._host_for_document(name, document)
        self.check_hypervisor(document, chosen)
        self.check_files(document, starting=False)
        if _known(chosen, name) is None:
            self._define(chosen, document)
            return Outcome(f"defined on host {chosen.name}", host=chosen.name, domain=name, action="define")
        self.require_owned(chosen, name, "redefine", force)
        if chosen.state(name) not in (None, DomainState.SHUTOFF):
            raise OperationInvalid(
                f"{name} is running on host {chosen.name}: rfconsole redefines a domain only while it is shut off",
                f"use `rfconsole redeploy {name}` (destroy, undefine, define, start), or shut it down first",
            )
        self._replace_definition(chosen, name, document)
        return Outcome(f"redefined on host {chosen.name}", host=chosen.name, domain=name, action="define")

    def _replace_definition(self, host: Host, name: str, document: DomainDocument, schema_checked: bool = False) -> None:
        """Undefine ``existing`` and define ``document`` in its place; if libvirt refuses the new
        definition, the old one is defined again, so bad input leaves the host as it was.
        (A definition without the old <uuid> cannot be defined over the old one directly.)"""
        previous = host.persistent_xml(name)
        host.undefine(name)
        try:
            self._define(host, document, schema_checked)
        except VirtError as refused:
            host.define_xml(name, previous, validate=False, doing="restore the previous definition of")
            refused.message += "; the previous definition was put back"
            refused.args = (refused.message,)
            raise

    def _host_for_document(self, name: str, document: DomainDocument) -> Host:
        if len(self._hosts) == 1:
            return self.host()
        if name in self.config.placement:
            return self.host(self.config.placement[name])
        found, domain = self.locate(name)
        return found if domain is not None else self.placed_host(name, document.hypervisor)

    def _define(self, host: Host, document: DomainDocument, schema_checked: bool = False) -> None:
        """Define ``document`` with rfconsole's mark. libvirt validates it against its domain schema
        (VIR_DOMAIN_DEFINE_VALIDATE, about 20 ms of the daemon's time) unless ``schema_checked``
        says we just did so ourselves on a local host, whose daemon reads the same schema files."""
        marked = document.copy()
        marked.mark_owned()
        host.define_xml(self._name_of(document), marked.to_xml(), validate=not (schema_checked and host.is_local))

    @staticmethod
    def _name_of(document: DomainDocument) -> str:
        if not document.name:
            raise RfconsoleError(f"{document.source}: the domain has no <name>", hint="every domain XML needs a <name>")
        return document.name

    @_on_timeline("start")
    def start(self, name: str, host: str | None = None, wait: bool = True, timeout: float = START_TIMEOUT) -> Outcome:
        """Start a defined, shut-off domain; with ``wait``, until libvirt reports it running."""
        chosen = self.existing_host(name, host)
        state = chosen.state(name)
        if state is not None and state.is_active:
            raise OperationInvalid(
                f"{name} on host {chosen.name} is already {state}",
                "resume a paused domain with `rfconsole resume`" if state is DomainState.PAUSED else None,
            )
        self._check_definition(chosen, name)
        chosen.start(name)
        if wait:
            chosen.wait_for_state(name, {DomainState.RUNNING}, timeout)
        return Outcome(f"running on host {chosen.name}", host=chosen.name, domain=name, action="start")

    def _check_definition(self, host: Host, name: str) -> None:
        document = host.document(name, inactive=True)
        self.check_hypervisor(document, host)
        self.check_files(document)

    def existing_host(self, name: str, host: str | None = None) -> Host:
        """The host that has VM ``name`` defined; DomainNotFound when none has."""
        chosen, known = self.locate(name, host)
        if known is None:
            where = f"host {chosen.name} ({chosen.uri})" if host is not None or len(self._hosts) == 1 else "any host"
            raise DomainNotFound(
                f"{name} is not defined on {where}",
                f"define it from XML/ with `rfconsole define {name}`, or use `rfconsole up {name}`",
            )
        return chosen

    @_on_timeline("shutdown")
    def shutdown(
        self,
        name: str,
        host: str | None = None,
        timeout: float | None = None,
        destroy_after: bool = False,
        force: bool = False,
        stage: Callable[[str], None] | None = None,
    ) -> Outcome:
        """Ask the guest to shut down (ACPI). With ``timeout``, wait that long for it to be shut
        off; then, only with ``destroy_after``, power it off (an unowned domain needs ``force``)."""
        chosen = self.existing_host(name, host)
        state = chosen.state(name)
        if state is None or not state.is_active:
            raise OperationInvalid(f"{name} on host {chosen.name} is not running (it is {state or 'undefined'})")
        tell = stage or (lambda _stage: None)
        may_destroy = destroy_after and (force or chosen.is_owned(name))
        tell("shutdown")
        chosen.shutdown(name)
        if timeout is None:
            return Outcome(f"shutdown requested on host {chosen.name}", host=chosen.name, domain=name, action="shutdown")
        tell("wait")
        try:
            chosen.wait_for_state(name, {DomainState.SHUTOFF}, timeout)
            return Outcome(f"shut off on host {chosen.name}", host=chosen.name, domain=name, action="shutdown")
        except VirtError as late:
            if not destroy_after:
                raise late from None
        if not may_destroy:
            self.require_owned(chosen, name, "destroy", force, why=f" after it did not shut down within {timeout:g} s")
        tell("destroy")
        chosen.destroy(name)
        chosen.wait_for_state(name, {DomainState.SHUTOFF}, START_TIMEOUT)
        return Outcome(f"destroyed after {timeout:g} s without shutting down, on host {chosen.name}", host=chosen.name, domain=name, action="shutdown")

    @_on_timeline("destroy")
    def destroy(self, name: str, host: str | None = None, force: bool = False) -> Outcome:
        """Power the domain off at once; an unowned domain only with ``force``."""
        chosen = self.existing_host(name, host)
        self.require_owned(chosen, name, "destroy", force)
        state = chosen.state(name)
        if state is None or not state.is_active:
            raise OperationInvalid(f"{name} on host {chosen.name} is not running (it is {state or 'undefined'})")
        chosen.destroy(name)
        return Outcome(f"shut off on host {chosen.name}", host=chosen.name, domain=name, action="destroy")

    @_on_timeline("undefine")
    def undefine(self, name: str, host: str | None = None, force: bool = False) -> Outcome:
        """libvirt forgets the domain; an unowned domain only with ``force``. Undefine is always
        undoable: its file in XML/ stays, and when there is none libvirt's definition is saved
        there first (a save the store refuses stops the undefine)."""
        chosen = self.existing_host(name, host)
        self.require_owned(chosen, name, "undefine", force)
        saved = self._keep_definition(chosen, name)
        active = chosen.state(name) not in (None, DomainState.SHUTOFF)
        chosen.undefine(name)
        said = f"undefined on host {chosen.name}"
        if saved is not None:
            said += f"; its definition was saved to {saved} first (define it again with `rfconsole define {name}`)"
        if active:
            said += "; it keeps running as a transient domain until it stops"
        return Outcome(said, host=chosen.name, domain=name, action="undefine")

    def _keep_definition(self, host: Host, name: str) -> Path | None:
        """Save the domain's persistent definition to XML/ when XML/ has no file of that name;
        the path written, or None when a file was there already."""
        if self.store is None or self.store.find(name) is not None:
            return None
        document = host.document(name, inactive=True)
        try:
            return self.store.save(document)
        except RfconsoleError as refused:
            raise RfconsoleError(
                f"refusing to undefine {name} on host {host.name}: XML/ has no file of it and its definition "
                f"could not be saved there: {refused.message}",
                refused.hint or "save it yourself with `virsh dumpxml`, then undefine",
            ) from None

    def stored_only(self, statuses: Iterable[DomainStatus]) -> list[DomainStatus]:
        """The VMs of XML/ that no reachable host has defined (``statuses``: the hosts' domains),
        each on the host it would be defined on, in state UNDEFINED, or UNKNOWN when that host
        cannot be reached (it may well have it defined); files that do not read as a VM are left
        out (`rfconsole xml validate` tells why)."""
        if self.store is None:
            return []
        defined = {status.name for status in statuses}
        found = []
        for entry in self.store.entries():  # read without pydantic: the console lists them at start
            settings = entry.settings if entry.error is None else None
            if settings is None or settings["name"] in defined:
                continue
            name, hypervisor = settings["name"], settings["hypervisor"]
            try:
                host = self.placed_host(name, hypervisor)
            except RfconsoleError:
                continue
            state = DomainState.UNDEFINED if host.connected else DomainState.UNKNOWN
            found.append(DomainStatus(
                name, host.name, hypervisor, state, settings["vcpu"], settings["memory"], 0.0,
                entry.document is not None and entry.document.owned, host.demo,
            ))
            defined.add(name)
        return found

    @_on_timeline("suspend")
    def suspend(self, name: str, host: str | None = None) -> Outcome:
        chosen = self.existing_host(name, host)
        chosen.suspend(name)
        return Outcome(f"paused on host {chosen.name}", host=chosen.name, domain=name, action="suspend")

    @_on_timeline("resume")
    def resume(self, name: str, host: str | None = None) -> Outcome:
        chosen = self.existing_host(name, host)
        chosen.resume(name)
        return Outcome(f"running on host {chosen.name}", host=chosen.name, domain=name, action="resume")

    def toggle_autostart(self, name: str, host: str | None = None) -> Outcome:
        """Turn libvirt's autostart (start with the host's libvirtd) on when off, off when on."""
        chosen = self.existing_host(name, host)
        now_on = chosen.toggle_autostart(name)
        return Outcome(f"autostart {'on' if now_on else 'off'} on host {chosen.name}", host=chosen.name, domain=name, action="autostart")

    @_on_timeline("reboot")
    def reboot(self, name: str, host: str | None = None) -> Outcome:
        chosen = self.existing_host(name, host)
        chosen.reboot(name)
        return Outcome(f"reboot requested on host {chosen.name}", host=chosen.name, domain=name, action="reboot")

    @_on_timeline("power-cycle")
    def power_cycle(self, name: str, host: str | None = None, force: bool = False) -> Outcome:
        """Hard reset (the reset button, libvirt's virDomainReset) of a running domain; an unowned
        domain only with ``force``. Not ``reset``: that is the lab's reset to a snapshot or base."""
        chosen = self.existing_host(name, host)
        self.require_owned(chosen, name, "power-cycle", force)
        state = chosen.state(name)
        if state is None or not state.is_active:
            raise OperationInvalid(f"{name} on host {chosen.name} is not running (it is {state or 'undefined'})")
        chosen.power_cycle(name)
        return Outcome(f"power-cycled (hard reset) on host {chosen.name}", host=chosen.name, domain=name, action="power_cycle")

    @_on_timeline("redeploy")
    def redeploy(
        self,
        target: DocumentLike,
        host: str | None = None,
        force: bool = False,
        timeout: float = START_TIMEOUT,
        stage: Callable[[str], None] | None = None,
    ) -> Outcome:
        """The seed's redeploy as one action: destroy, undefine, define (from ``target``, a
        DomainDocument or a VM name / path in XML/), start and wait until running. Every check
        (hypervisor, files, ownership of the live definition) runs before anything is touched."""
        document = self.document_of(target)
        name = self._name_of(document)
        with self._vm_locked(name):
            return self._redeploy(document, name, host, force, timeout, stage)

    def _redeploy(
        self, document: DomainDocument, name: str, host: str | None, force: bool, timeout: float, stage: Callable[[str], None] | None
    ) -> Outcome:
        chosen = self.host(host) if host is not None else self._host_for_document(name, document)
        self.check_hypervisor(document, chosen)
        self.check_files(document)
        state = chosen.state(name)
        schema_checked = False
        if state is not None:
            self.require_owned(chosen, name, "redeploy (destroy and undefine)", force)
            schema_checked = self._check_schema_before_destroying(document)
        tell = stage or (lambda _stage: None)
        if state is not None and state is not DomainState.SHUTOFF:
            tell("destroy")
            chosen.destroy(name)
            state = chosen.state(name)  # a transient domain is gone once destroyed
        if state is not None:
            tell("undefine")
            tell("define")
            self._replace_definition(chosen, name, document, schema_checked)
        else:
            tell("define")
            self._define(chosen, document)
        tell("start")
        chosen.start(name)
        if chosen.state(name) is not DomainState.RUNNING:  # libvirt's create returns once it runs, as a rule
            chosen.wait_for_state(name, {DomainState.RUNNING}, timeout)
        return Outcome(f"running on host {chosen.name}", host=chosen.name, domain=name, action="redeploy")

    def _vm_locked(self, name: str | None) -> AbstractContextManager[None]:
        """The VM's own lock (Store.vm_locked): up, reset, redeploy, down, define and snapshot
        revert of one VM, from any process, run one after the other."""
        return self.store.vm_locked(name) if self.store is not None and name else nullcontext()

    @_on_timeline("up")
    def up(self, name: str, host: str | None = None, timeout: float = START_TIMEOUT, stage: Callable[[str], None] | None = None) -> Outcome:
        """Make sure ``name`` runs, idempotently: define it from XML/ when no host knows it,
        resume it when paused, start it when shut off, then wait until it is running.
        ``stage(word)`` is told each step as it begins (define, resume, start, wait)."""
        with self._vm_locked(name):
            return self._up(name, host, timeout, stage)

    def ensure_defined(self, name: str, host: str | None = None, stage: Callable[[str], None] | None = None) -> tuple[Host, bool]:
        """The host that has VM ``name``, after defining it from XML/ when no host knows it (on
        ``host``, else its placement), with every check first; and whether it was defined now.
        ``stage("define")`` is told before defining."""
        chosen, known = self.locate(name, host)
        if known is not None:
            return chosen, False
        document = self.document_of(name)
        if host is None and len(self._hosts) > 1:
            chosen = self.placed_host(name, document.hypervisor)
        self.check_hypervisor(document, chosen)
        self.check_files(document)
        if stage is not None:
            stage("define")
        self._define(chosen, document)
        return chosen, True

    def _up(self, name: str, host: str | None, timeout: float, stage: Callable[[str], None] | None) -> Outcome:
        tell = stage or (lambda _stage: None)
        chosen, defined_now = self.ensure_defined(name, host, tell)
        defined = "defined, " if defined_now else ""
        state = chosen.state(name)
        if state is DomainState.RUNNING:
            return Outcome(f"already running on host {chosen.name}", host=chosen.name, domain=name, action="up")
        if state in (DomainState.PAUSED, DomainState.PMSUSPENDED):
            tell("resume")
            chosen.resume(name)
            chosen.wait_for_state(name, {DomainState.RUNNING}, timeout)
            return Outcome(f"resumed, running on host {chosen.name}", host=chosen.name, domain=name, action="up")
        if state is not None and state.is_active:  # in shutdown, blocked: let it settle first
            tell("wait")
            chosen.wait_for_state(name, {DomainState.SHUTOFF, DomainState.RUNNING}, timeout)
            if chosen.state(name) is DomainState.RUNNING:
                return Outcome(f"already running on host {chosen.name}", host=chosen.name, domain=name, action="up")
        if not defined:
            self._check_definition(chosen, name)
        tell("start")
        chosen.start(name)
        tell("wait")
        chosen.wait_for_state(name, {DomainState.RUNNING}, timeout)
        return Outcome(f"{defined}started, running on host {chosen.name}", host=chosen.name, domain=name, action="up")

    @_on_timeline("down")
    def down(
        self,
        name: str,
        host: str | None = None,
        timeout: float = SHUTDOWN_TIMEOUT,
        destroy_after: bool = True,
        force: bool = False,
        stage: Callable[[str], None] | None = None,
    ) -> Outcome:
        """Make sure ``name`` is shut off, idempotently: graceful shutdown, then destroy after
        ``timeout`` seconds (an unowned domain is destroyed only with ``force``). ``stage(word)``
        is told each step as it begins (shutdown, wait, destroy)."""
        with self._vm_locked(name):
            return self._down(name, host, timeout, destroy_after, force, stage)

    def _down(
        self, name: str, host: str | None, timeout: float, destroy_after: bool, force: bool, stage: Callable[[str], None] | None
    ) -> Outcome:
        chosen = self.existing_host(name, host)
        state = chosen.state(name)
        if state is None or not state.is_active:
            return Outcome(f"already shut off on host {chosen.name}", host=chosen.name, domain=name, action="down")
        if state is DomainState.PAUSED:  # a paused guest cannot react to ACPI
            self.require_owned(chosen, name, "destroy (it is paused)", force)
            if stage:
                stage("destroy")
            chosen.destroy(name)
            return Outcome(f"destroyed (it was paused), shut off on host {chosen.name}", host=chosen.name, domain=name, action="down")
        said = self.shutdown(name, chosen.name, timeout=timeout, destroy_after=destroy_after, force=force, stage=stage)
        return Outcome(said.words, host=chosen.name, domain=name, action="down")

    def bring_up_rftest2(
        self, chosen: Mapping[str, Path | None], progress: Callable[[str, str, int], None] | None = None
    ) -> dict[str, Any]:
        """rftest2's bring-up: redeploy each slot (rfvmA–rfvmD) from its chosen XML file,
        concurrently. ``progress(slot, stage, stages_done)``; per slot, the outcome or the error."""
        report = progress or (lambda _slot, _stage, _done: None)
        steps_done: dict[str, int] = {}

        def staged(slot: str, word: str) -> None:
            done = steps_done.get(slot, 0)
            report(slot, word, done)
            steps_done[slot] = done + 1

        def one(slot: str, stage: Callable[[str], None]) -> Outcome:
            path = chosen.get(slot)
            if path is None:
                raise RfconsoleError(f"{slot}: no XML chosen", hint="choose a file from XML/ or make one with the wizard")
            document = DomainDocument.read(path)
            if document.name != slot:
                raise RfconsoleError(
                    f"{slot}: {Path(path).name} defines {document.name or 'a domain without a <name>'}, not {slot}: nothing was touched",
                    f"choose {slot}'s own file (XML/{slot}.xml), or set <name>{slot}</name> in that file",
                )
            return self.redeploy(document, stage=stage)

        results = self.run_many(one, list(chosen), stage=staged)
        return {result.name: (result.message if result.ok else result.error) for result in results}

    # ------------------------------------------------------------------ snapshots (virt/snapshots.py)
    def snapshot_list(self, name: str, host: str | None = None) -> list[SnapshotInfo]:
        """The domain's snapshots, oldest first."""
        from rfconsole.virt.snapshots import list_snapshots

        chosen, known = self.locate(name, host)
        if known is None:
            raise DomainNotFound(
                f"{name} is not defined on host {chosen.name}",
                f"define it from XML/ with `rfconsole define {name}`, or use `rfconsole up {name}`",
            )
        return list_snapshots(chosen, name)

    @_on_timeline("snapshot")
    def snapshot_create(self, name: str, snapshot: str | None = None, host: str | None = None,
                        force: bool = False, description: str | None = None) -> Outcome:
        """An internal snapshot (memory too when running; default name from the UTC time).
        Refused, naming why, for LXC, no disk, or a disk that is not a qcow2 file."""
        from rfconsole.model.snapshot import check_snapshot_name, default_snapshot_name
        from rfconsole.virt import snapshots

        chosen = self.existing_host(name, host)
        snapshot = check_snapshot_name(snapshot) if snapshot else default_snapshot_name()
        self.require_owned(chosen, name, "snapshot", force)
        return snapshots.create(chosen, name, snapshot, description)

    @_on_timeline("revert")
    def snapshot_revert(self, name: str, snapshot: str | None = None, host: str | None = None,
                        force: bool = False, running: bool = False, timeout: float | None = None) -> Outcome:
        """Back to ``snapshot`` (default: libvirt's current one); what changed since is lost.
        Under the VM's lock, as up and reset (which may revert it too)."""
        from rfconsole.virt import snapshots

        with self._vm_locked(name):
            chosen = self.existing_host(name, host)
            self.require_owned(chosen, name, "revert", force)
            return snapshots.revert(chosen, name, snapshot, running, timeout)

    @_on_timeline("delete snapshot")
    def snapshot_delete(self, name: str, snapshot: str, host: str | None = None, force: bool = False) -> Outcome:
        from rfconsole.virt import snapshots

        chosen = self.existing_host(name, host)
        self.require_owned(chosen, name, "delete a snapshot of", force)
        return snapshots.delete(chosen, name, snapshot)

    @_on_timeline("reset")
    def reset(self, name: str, snapshot: str | None = None, host: str | None = None, force: bool = False,
              timeout: float = START_TIMEOUT, stage: Callable[[str], None] | None = None) -> Outcome:
        """Back to a clean state, then running (virt/reset.py): ``snapshot``, else the current
        snapshot, else a fresh overlay of each overlay disk's base. What the VM wrote is lost."""
        from rfconsole.virt.reset import (
            reset as reset_vm,  # here, not above: every command would pay for images and the spec model
        )

        with self._vm_locked(name):
            tell = stage or (lambda _stage: None)
            chosen, _ = self.ensure_defined(name, host, tell)  # as `up` does: rfconsole defines it from XML/ first
            self.require_owned(chosen, name, "reset (and lose what it wrote)", force)
            return reset_vm(chosen, name, self.store.workdir if self.store is not None else None, snapshot, timeout, tell)

    @_on_timeline("clone")
    def clone(
        self,
        source: str,
        new: str,
        force: bool = False,
        routeflow_config: str | os.PathLike[str] | None = None,
        datapath_id: int | None = None,
        new_id: int | None = None,
    ) -> Outcome:
        """A new VM ``new`` in XML/ from ``source`` (virt/clone.py): new id, MACs unique across
        XML/ and the hosts, host-side NIC names, its own overlay of the source's base (an existing
        file only with ``force``, kept in Images/.backup/); with ``routeflow_config``, its rows
        appended to RouteFlow's CSV (switch ``datapath_id``, default rftest2's naming's); id
        ``new_id`` (default: rftest2's naming's when free, else the next free one). Not
        defined: ``up`` does that."""
        from rfconsole.virt.clone import (
            clone as clone_vm,  # here, not above: every command would pay for the spec model
        )

        if self.store is None:
            raise RfconsoleError(f"no working folder to clone {source} into")
        csv_path = Path(os.path.abspath(routeflow_config)) if routeflow_config is not None else None
        words = clone_vm(self.store, self.hosts(), self.locate, source, new, force, routeflow_config=csv_path, datapath_id=datapath_id, new_id=new_id)
        return Outcome(words, host=self.placed_host(new).name, domain=new, action="clone")  # the host `up` will define it on

    def writers_of(self, paths: Iterable[str | os.PathLike[str]]) -> WritersFound:
        """The active domains of this machine's hosts that write one of ``paths`` (virt/writers.py),
        and the hosts that could not be asked."""
        from rfconsole.virt.writers import writers_of

        return writers_of(self.hosts(), paths)

    # ------------------------------------------------------------------ many at once
    def run_many(
        self,
        operation: str | Callable[..., Outcome],
        names: Iterable[str],
        progress: Callable[[OperationResult, int, int], None] | None = None,
        max_workers: int | None = None,
        stage: Callable[[str, str], None] | None = None,
        **options: Any,
    ) -> list[OperationResult]:
        """The one multi-VM runner (the CLI's lifecycle commands, the rftest2 bring-up, the
        console's bulk keys): run ``operation`` (a Fleet method name such as "up", or a callable
        taking a VM name) on every VM concurrently, ``options`` passed on. ``progress(result,
        done, total)`` is called as each VM finishes; ``stage(name, step)`` as each step of a VM
        begins, for the operations that have steps (STAGED_OPERATIONS, or a callable that takes
        ``stage``); both from worker threads. Results come back in ``names`` order."""
        names = list(dict.fromkeys(names))
        if isinstance(operation, str):
            if operation not in OPERATIONS:
                raise RfconsoleError(f"unknown operation {operation!r}: one of {', '.join(OPERATIONS)}")
            label = operation
            method = getattr(self, operation)
            if stage is not None and operation in STAGED_OPERATIONS:
                function: Callable[[str], Outcome] = lambda name: method(name, stage=lambda step: stage(name, step), **options)  # noqa: E731
            else:
                function = lambda name: method(name, **options)  # noqa: E731
        else:
            label = getattr(operation, "__name__", "operation")
            if stage is not None:
                function = lambda name: operation(name, stage=lambda step: stage(name, step))  # noqa: E731
            else:
                function = operation
        results: dict[str, OperationResult] = {}
        lock = threading.Lock()

        def timed(name: str) -> OperationResult:
            started = time.monotonic()
            try:
                outcome = function(name)
                return OperationResult(name, label, True, str(outcome), time.monotonic() - started)
            except RfconsoleError as error:
                return OperationResult(name, label, False, error.message, time.monotonic() - started, error)
            except Exception as error:  # noqa: BLE001 - a bug in one VM's run is reported, not lost
                return OperationResult(name, label, False, f"{type(error).__name__}: {error}", time.monotonic() - started, error)

        if not names:
            return []
        with ThreadPoolExecutor(max_workers=max_workers or min(8, len(names)), thread_name_prefix="rfconsole-op") as pool:
            futures = [pool.submit(timed, name) for name in names]
            for future in as_completed(futures):
                result = future.result()
                with lock:
                    results[result.name] = result
                    done = len(results)
                if progress is not None:
                    progress(result, done, len(names))
        return [results[name] for name in names]


def _offers(host: Host, hypervisor: Hypervisor) -> bool:
    try:
        return hypervisor in host.capabilities()
    except VirtError:
        return False


def _known(host: Host, name: str) -> str | None:
    """``name`` when ``host`` has a domain of that name, else None."""
    return name if host.exists(name) else None
