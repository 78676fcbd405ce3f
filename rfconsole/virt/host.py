"""One libvirt host: a lazily opened connection, lifecycle events, reconnection, statuses.

libvirt's default event loop runs in one daemon thread per process (``ensure_event_loop``);
every connection registers its lifecycle and close callbacks on it. Subscribers are plain
callables receiving ``DomainEvent`` / ``HostEvent`` on that thread. When the connection closes
(daemon gone, keepalive lost) the host reports itself disconnected and a background thread
reopens it with exponential backoff, re-registering the callbacks; subscribers stay.

One connection per host for the life of the object: the test driver's state lives in its
connection (each open of test:///… starts from the node XML again).

No libvirt handle leaves this module (tests/unit/test_libvirt_handles.py): every method names a
domain; a console's stream is wrapped in a ConsoleStream that never hands it out.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import libvirt

from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.errors import XMLInputError
from rfconsole.model.kinds import Hypervisor
from rfconsole.virt.capabilities import HostCapabilities, parse_capabilities
from rfconsole.virt.errors import (
    ConsoleNotRunning,
    ConsoleUnavailable,
    DomainNotFound,
    HostUnavailable,
    OperationInvalid,
    OperationTimeout,
    SnapshotNotFound,
    VirtError,
    translate,
    unreachable_hint,
)
from rfconsole.virt.events import (
    DomainEvent,
    DomainState,
    DomainStatus,
    HostEvent,
    event_words,
)
from rfconsole.virt.stats import DomainCounters, counters_from_record

log = logging.getLogger(__name__)

Subscriber = Callable[[Any], None]
T = TypeVar("T")

KEEPALIVE_INTERVAL = 5  # seconds between keepalive probes on daemon connections
EVENT_HISTORY = 2000  # lifecycle events kept per host
KEEPALIVE_COUNT = 3  # unanswered probes before libvirt closes the connection
# the groups `top` and the sparklines show, read for every domain in one call per tick
STATS_GROUPS = (
    libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL | libvirt.VIR_DOMAIN_STATS_BALLOON
    | libvirt.VIR_DOMAIN_STATS_BLOCK | libvirt.VIR_DOMAIN_STATS_INTERFACE
)
# what the table's poll shows of every domain (state, CPU time, memory, vCPUs), read in one call per host
STATUS_GROUPS = (
    libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL | libvirt.VIR_DOMAIN_STATS_BALLOON
    | libvirt.VIR_DOMAIN_STATS_VCPU
)
_STATUS_FIELDS = ("state.state", "balloon.maximum", "balloon.current", "vcpu.current", "cpu.time")
CLOSE_REASONS = {
    libvirt.VIR_CONNECT_CLOSE_REASON_ERROR: "connection error",
    libvirt.VIR_CONNECT_CLOSE_REASON_EOF: "the daemon closed the connection",
    libvirt.VIR_CONNECT_CLOSE_REASON_KEEPALIVE: "the daemon stopped answering keepalives",
    libvirt.VIR_CONNECT_CLOSE_REASON_CLIENT: "closed by rfconsole",
}

# ---------------------------------------------------------------------------- the event loop
_loop_lock = threading.Lock()
_loop_thread: threading.Thread | None = None


def _ignore_libvirt_error(_context: Any, _error: Any) -> None:
    """libvirt prints every error on stderr by default; ours go through exceptions instead."""


def ensure_event_loop() -> None:
    """Register libvirt's default event loop and start its thread, once per process, before any
    connection is opened (connections opened earlier would never deliver events)."""
    global _loop_thread
    with _loop_lock:
        if _loop_thread is not None:
            return
        libvirt.registerErrorHandler(_ignore_libvirt_error, None)
        libvirt.virEventRegisterDefaultImpl()
        _loop_thread = threading.Thread(target=_run_event_loop, name="libvirt-events", daemon=True)
        _loop_thread.start()


def _run_event_loop() -> None:
    while True:
        try:
            libvirt.virEventRunDefaultImpl()
        except libvirt.libvirtError:  # pragma: no cover - libvirt reports a broken loop this way
            log.exception("libvirt's event loop failed; retrying")
            time.sleep(0.1)


def uri_is_local(uri: str) -> bool:
    """The URI's transport reaches this machine, so the files its domains name are this machine's:
    no host part (qemu:///system, lxc:///, test:///default) or a loopback one (localhost,
    127.0.0.0/8, ::1, as in qemu+tcp://127.0.0.1/system or qemu+ssh://localhost/system)."""
    hostname = urlsplit(uri).hostname
    if not hostname or hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------------------- reconnection policy
@dataclass(frozen=True)
class Backoff:
    """Delays between reconnection attempts: ``first``, then times ``factor``, at most ``cap``."""

    first: float = 0.5
    cap: float = 10.0
    factor: float = 2.0

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay
            delay = min(self.cap, delay * self.factor)


ADDRESS_SOURCES = {  # where libvirt reads a guest's addresses, in rfconsole's words
    "lease": libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
    "arp": libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP,
    "agent": libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
}

UNDEFINE_FLAGS = (
    libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
    | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
    | libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM
)
UNDEFINE_FLAG_CHOICES = (
    UNDEFINE_FLAGS,
    libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA,
    0,
)


@dataclass(frozen=True)
class MigrationProgress:
    """A migration job's figures (libvirt's job statistics; bytes and milliseconds)."""

    data_total: int
    data_processed: int
    data_remaining: int
    elapsed_ms: int
    downtime_ms: int | None  # known once the job completed

    @classmethod
    def from_stats(cls, stats: dict[str, Any], elapsed_ms: int) -> MigrationProgress:
        downtime = stats.get("downtime")
        return cls(int(stats.get("data_total", 0)), int(stats.get("data_processed", 0)), int(stats.get("data_remaining", 0)),
                   int(stats.get("time_elapsed", elapsed_ms)), int(downtime) if downtime is not None else None)


class Host:
    """One libvirt URI under a name of the configuration (``local``, ``lab2``, ``demo`` …)."""

    def __init__(self, name: str, uri: str, *, demo: bool = False, read_only: bool = False, backoff: Backoff = Backoff()) -> None:
        self.name = name
        self.uri = uri
        self.demo = demo
        self.read_only = read_only  # libvirt's read-only connection: it reads, and refuses every change
        self.backoff = backoff
        self._lock = threading.RLock()
        self._connection: libvirt.virConnect | None = None
        self._callback_ids: list[int] = []
        self._subscribers: list[Subscriber] = []
        self._changed = threading.Condition()
        self._closed = False
        self._stop_reconnecting = threading.Event()
        self._reconnector: threading.Thread | None = None
        self._last_problem: str | None = None
        self._down_since: float | None = None  # time.time() of the failure that took the host down
        self._retry_at: float | None = None  # time.time() of the reconnector's next attempt
        self._capabilities: HostCapabilities | None = None
        self._capabilities_lock = threading.Lock()  # concurrent operations read them once
        self._facts: dict[str, tuple[bool, Hypervisor | None]] = {}  # name -> (owned, hypervisor)
        self._cpu_samples: dict[str, tuple[int, float]] = {}  # name -> (cpu time ns, monotonic s)
        self._cpu_percent: dict[str, float] = {}
        # None until the first poll: whether the driver gives every status field in one
        # getAllDomainStats call (QEMU does; LXC has no such call, the test driver gives only states)
        self.bulk_statuses: bool | None = None
        self._history: deque[DomainEvent] = deque(maxlen=EVENT_HISTORY)  # for a VM's details
        self._consoles_exclusive = True  # False once the driver refused SAFE/FORCE (LXC)

    def __repr__(self) -> str:
        return f"Host({self.name!r}, {self.uri!r})"

    @property
    def is_test_driver(self) -> bool:
        return self.uri.startswith("test:")

    @property
    def is_local(self) -> bool:
        """The host is this machine (``uri_is_local``): the files its domains name are this
        machine's files, and its daemon reads the schema files rfconsole reads."""
        return uri_is_local(self.uri)

    # ------------------------------------------------------------------ connection
    @property
    def connected(self) -> bool:
        with self._lock:
            return self._connection is not None

    @property
    def problem(self) -> str | None:
        """Why the host is not connected, when the last attempt failed."""
        return None if self.connected else self._last_problem

    @property
    def down_since(self) -> float | None:
        """When (time.time()) the host was found unreachable; None while connected or never tried."""
        return None if self.connected else self._down_since

    @property
    def retry_at(self) -> float | None:
        """When (time.time()) the reconnection's next attempt is due; None when none is waiting."""
        return None if self.connected else self._retry_at

    def _went_down(self, problem: str | None) -> None:
        self._last_problem = problem
        if self._down_since is None:
            self._down_since = time.time()

    def connect(self) -> None:
        """Open the connection now (HostUnavailable when it cannot be), if this is its first use."""
        self._connect()

    def _connect(self) -> libvirt.virConnect:
        """The open connection, opened now if this is the first use."""
        with self._lock:
            if self._connection is not None:
                return self._connection
            if self._closed:
                raise HostUnavailable(f"host {self.name} ({self.uri}) is closed", host=self.name)
            if self._reconnector is not None and self._reconnector.is_alive():
                raise HostUnavailable(
                    f"host {self.name} ({self.uri}) is disconnected ({self._last_problem}); rfconsole is reconnecting",
                    unreachable_hint(self.uri),
                    host=self.name,
                )
            ensure_event_loop()
            try:
                connection = self._open()
            except libvirt.libvirtError as error:
                problem = self._translate(error, "connect")
                self._went_down(problem.libvirt_message)
                if self._subscribers:
                    self._start_reconnecting()
                raise problem from None
            self._attach(connection)
            return connection

    def _open(self) -> libvirt.virConnect:
        return libvirt.openReadOnly(self.uri) if self.read_only else libvirt.open(self.uri)

    def _attach(self, connection: libvirt.virConnect) -> None:
        """Register our callbacks on a freshly opened connection and make it the current one."""
        self._callback_ids = [
            connection.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_lifecycle, None)
        ]
        if not self.is_test_driver:
            try:
                connection.registerCloseCallback(self._on_close, None)
                connection.setKeepAlive(KEEPALIVE_INTERVAL, KEEPALIVE_COUNT)
            except libvirt.libvirtError as error:  # local drivers without keepalive support
                log.debug("host %s: no keepalive/close callback: %s", self.name, error)
        self._connection = connection
        self._last_problem = None
        self._down_since = self._retry_at = None
        self._facts.clear()

    def _detach(self, connection: libvirt.virConnect) -> None:
        for callback_id in self._callback_ids:
            try:
                connection.domainEventDeregisterAny(callback_id)
            except libvirt.libvirtError:
                pass
        self._callback_ids = []
        if not self.is_test_driver:
            try:
                connection.unregisterCloseCallback()
            except libvirt.libvirtError:
                pass
        try:
            connection.close()
        except libvirt.libvirtError:
            pass

    def close(self) -> None:
        """Stop reconnecting and close the connection; the host cannot be used afterwards."""
        self._stop_reconnecting.set()
        with self._lock:
            self._closed = True
            connection, self._connection = self._connection, None
        if connection is not None:
            self._detach(connection)
        reconnector = self._reconnector
        if reconnector is not None and reconnector is not threading.current_thread():
            reconnector.join(timeout=2)

    def _on_close(self, connection: libvirt.virConnect, reason: int, _opaque: Any) -> None:
        """libvirt's close callback, on the event-loop thread: report and start reconnecting."""
        with self._lock:
            if self._connection is not connection or self._closed:
                return
            self._connection = None
            self._went_down(CLOSE_REASONS.get(reason, f"closed (reason {reason})"))
            self._start_reconnecting(old=connection)
        self._emit(HostEvent(self.name, self.uri, False, self._last_problem or "closed"))

    def _start_reconnecting(self, old: libvirt.virConnect | None = None) -> None:
        if self._closed or (self._reconnector is not None and self._reconnector.is_alive()):
            return
        self._reconnector = threading.Thread(
            target=self._reconnect, args=(old,), name=f"libvirt-reconnect-{self.name}", daemon=True
        )
        self._reconnector.start()

    def _reconnect(self, old: libvirt.virConnect | None) -> None:
        if old is not None:
            try:  # the callbacks of a dead connection cannot fire again; free its resources
                old.unregisterCloseCallback()
            except libvirt.libvirtError:
                pass
            try:
                old.close()
            except libvirt.libvirtError:
                pass
        for delay in self.backoff.delays():
            self._retry_at = time.time() + delay
            if self._stop_reconnecting.wait(delay):
                return
            self._retry_at = None  # trying now
            try:
                connection = self._open()
            except libvirt.libvirtError as error:
                self._last_problem = error.get_error_message()
                log.debug("host %s: reconnect failed: %s", self.name, self._last_problem)
                continue
            with self._lock:
                if self._closed:
                    connection.close()
                    return
                self._attach(connection)
            self._emit(HostEvent(self.name, self.uri, True, "reconnected"))
            with self._changed:
                self._changed.notify_all()
            return

    def _translate(self, error: libvirt.libvirtError, doing: str, domain: str | None = None) -> VirtError:
        return translate(error, doing, self.name, self.uri, domain, read_only=self.read_only)

    def _call(self, doing: str, function: Callable[..., T], *args: Any, domain: str | None = None) -> T:
        """Run one libvirt call, turning its errors into ours (a dead connection starts reconnecting)."""
        try:
            return function(*args)
        except libvirt.libvirtError as error:
            problem = self._translate(error, doing, domain)
            if isinstance(problem, HostUnavailable):
                self._lost(problem)
            raise problem from None

    def _lost(self, problem: HostUnavailable) -> None:
        """An API call found the connection dead before the close callback did."""
        with self._lock:
            connection = self._connection
            if connection is None or self._closed:
                return
            try:
                alive = connection.isAlive() == 1
            except libvirt.libvirtError:
                alive = False
            if alive:
                return
            self._connection = None
            self._went_down(problem.libvirt_message)
            self._start_reconnecting(old=connection)
        self._emit(HostEvent(self.name, self.uri, False, problem.libvirt_message or "connection lost"))

    # ------------------------------------------------------------------ events
    def subscribe(self, callback: Subscriber) -> None:
        """Call ``callback(event)`` for every DomainEvent and HostEvent of this host, on
        libvirt's event-loop thread (or the reconnection thread for HostEvents)."""
        with self._lock:
            if callback not in self._subscribers:
                self._subscribers = [*self._subscribers, callback]

    def unsubscribe(self, callback: Subscriber) -> None:
        with self._lock:
            self._subscribers = [known for known in self._subscribers if known != callback]

    def _emit(self, event: DomainEvent | HostEvent) -> None:
        for callback in self._subscribers:
            try:
                callback(event)
            except Exception:  # noqa: BLE001 - one subscriber's bug must not stop the others or the loop
                log.exception("subscriber %r failed on %s", callback, event)

    def _on_lifecycle(self, _connection: Any, domain: libvirt.virDomain, event: int, detail: int, _opaque: Any) -> None:
        kind, words = event_words(event, detail)
        name = domain.name()
        self._facts.pop(name, None)
        if kind is not None and kind.value in ("undefined", "stopped"):
            self._cpu_samples.pop(name, None)
            self._cpu_percent.pop(name, None)
        with self._changed:
            self._changed.notify_all()
        if kind is not None:
            happened = DomainEvent(self.name, name, kind, words)
            self._history.append(happened)
            self._emit(happened)

    def events_of(self, name: str) -> list[DomainEvent]:
        """The lifecycle events of domain ``name`` this host has seen (since its first connection;
        the last EVENT_HISTORY of all its domains), oldest first."""
        return [event for event in list(self._history) if event.domain == name]

    # ------------------------------------------------------------------ domains
    def exists(self, name: str) -> bool:
        """The host has a domain called ``name``."""
        return self._find(name) is not None

    def _find(self, name: str) -> libvirt.virDomain | None:
        """The domain called ``name``, or None when the host has none."""
        connection = self._connect()
        try:
            return connection.lookupByName(name)
        except UnicodeEncodeError:  # e.g. an undecodable command-line byte: no domain can be called that
            return None
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            problem = self._translate(error, f"look up {name}", name)
            if isinstance(problem, HostUnavailable):
                self._lost(problem)
            raise problem from None

    def _domain(self, name: str) -> libvirt.virDomain:
        found = self._find(name)
        if found is None:
            raise DomainNotFound(
                f"host {self.name} ({self.uri}) has no domain named {name}",
                f"define it from XML/{name}.xml with `rfconsole define {name}`, or `rfconsole up {name}`",
                host=self.name,
                domain=name,
            )
        return found

    def state(self, name: str) -> DomainState | None:
        """The domain's state, None when the host does not know it."""
        domain = self._find(name)
        return None if domain is None else self._domain_state(domain)

    def _domain_state(self, domain: libvirt.virDomain) -> DomainState:
        """The state of a domain already looked up (one call, no second lookup)."""
        name = domain.name()
        return DomainState.from_libvirt(self._call(f"read the state of {name}", domain.state, domain=name)[0])

    def document(self, name: str, inactive: bool = False) -> DomainDocument:
        """Domain ``name``'s definition as the model's DomainDocument (live, or the persistent one)."""
        return self._read_document(self._domain(name), inactive)

    def _read_document(self, domain: libvirt.virDomain, inactive: bool = False) -> DomainDocument:
        name = domain.name()
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0
        text = self._call(f"read the definition of {name}", domain.XMLDesc, flags, domain=name)
        return DomainDocument.parse(text, source=f"{name} on host {self.name}")

    def live_xml(self, name: str) -> str | None:
        domain = self._find(name)
        return None if domain is None else self._call(f"read the definition of {name}", domain.XMLDesc, 0, domain=name)

    def is_owned(self, name: str) -> bool:
        """Domain ``name`` carries rfconsole's ownership mark (in its live or persistent definition),
        read afresh: destructive operations decide on it."""
        return self._facts_of(self._domain(name), fresh=True)[0]

    def _facts_of(self, domain: libvirt.virDomain, fresh: bool = False) -> tuple[bool, Hypervisor | None]:
        """(owned, hypervisor) of the domain; cached for statuses until its next lifecycle event."""
        name = domain.name()
        facts = None if fresh else self._facts.get(name)
        if facts is None:
            try:
                live = self._read_document(domain)
                owned = live.owned
                if not owned and self._call(f"read {name}", domain.isActive, domain=name) == 1:
                    persistent = self._call(f"read {name}", domain.isPersistent, domain=name) == 1
                    owned = persistent and self._read_document(domain, inactive=True).owned
                facts = (owned, live.hypervisor)
            except XMLInputError:
                facts = (False, None)
            self._facts[name] = facts
        return facts

    def forget_facts(self, name: str) -> None:
        """Drop what statuses remember of ``name`` (owner, hypervisor): its definition changed."""
        self._facts.pop(name, None)

    def wait_for_state(self, name: str, wanted: set[DomainState], timeout: float) -> DomainState:
        """Wait (woken by lifecycle events, checking at least every 0.1 s) until the domain is in
        one of ``wanted``; OperationTimeout after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state(name)
            if state is None and DomainState.SHUTOFF in wanted:
                return DomainState.SHUTOFF  # a transient domain disappears when it stops
            if state in wanted:
                return state
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                words = " or ".join(sorted(state.value for state in wanted))
                raise OperationTimeout(
                    f"{name} on host {self.name} did not become {words} within {timeout:g} s (it is {state or 'undefined'})",
                    "look at the guest's log (/var/log/libvirt/qemu/<name>.log on the host), or allow more time with --timeout",
                    host=self.name,
                    domain=name,
                )
            with self._changed:
                self._changed.wait(min(0.1, remaining))

    def undefine(self, name: str) -> None:
        """Undefine with the flags that clean up after it (managed save, snapshot and checkpoint
        metadata; NVRAM kept), falling back to fewer for drivers that refuse them (test, LXC)."""
        domain = self._domain(name)
        for flags in UNDEFINE_FLAG_CHOICES[:-1]:
            try:
                domain.undefineFlags(flags)
                return
            except libvirt.libvirtError as error:
                if error.get_error_code() != libvirt.VIR_ERR_INVALID_ARG:  # "unsupported flags"
                    raise self._translate(error, f"undefine {name}", name) from None
        self._call(f"undefine {name}", domain.undefineFlags, UNDEFINE_FLAG_CHOICES[-1], domain=name)

    # ------------------------------------------------------------------ operations, by name
    # The fleet and its helpers (reset, snapshots, clone) name domains; the libvirt handles stay here.
    def _act(self, doing: str, name: str, method: str, *args: Any) -> Any:
        domain = self._domain(name)
        return self._call(f"{doing} {name}", getattr(domain, method), *args, domain=name)

    def start(self, name: str) -> None:
        self._act("start", name, "create")

    def shutdown(self, name: str) -> None:
        """Ask the guest to shut down (ACPI); returns at once."""
        self._act("shut down", name, "shutdown")

    def destroy(self, name: str) -> None:
        self._act("destroy", name, "destroy")

    def suspend(self, name: str) -> None:
        self._act("pause", name, "suspend")

    def resume(self, name: str) -> None:
        self._act("resume", name, "resume")

    def reboot(self, name: str) -> None:
        self._act("reboot", name, "reboot", 0)

    def power_cycle(self, name: str) -> None:
        """libvirt's virDomainReset: the reset button, the guest is not asked."""
        self._act("power-cycle", name, "reset", 0)

    def autostart(self, name: str) -> bool:
        """libvirt starts ``name`` when its daemon starts."""
        return bool(self._act("read the autostart of", name, "autostart"))

    def toggle_autostart(self, name: str) -> bool:
        """Turn autostart on when off, off when on; the new setting."""
        now = self.autostart(name)
        self._act("set the autostart of", name, "setAutostart", 0 if now else 1)
        return not now

    def persistent_xml(self, name: str) -> str:
        return self._act("read the definition of", name, "XMLDesc", libvirt.VIR_DOMAIN_XML_INACTIVE)

    def define_xml(self, name: str, xml: str, validate: bool = True, doing: str = "define") -> None:
        """Define (or redefine) domain ``name`` from ``xml``; with ``validate``, libvirt checks it
        against its domain schema first (VIR_DOMAIN_DEFINE_VALIDATE)."""
        connection = self._connect()
        flags = libvirt.VIR_DOMAIN_DEFINE_VALIDATE if validate else 0
        self._call(f"{doing} {name}", connection.defineXMLFlags, xml, flags, domain=name)
        self.forget_facts(name)  # a status read before libvirt's 'defined' event arrives sees the new definition

    def state_and_reason(self, name: str) -> tuple[DomainState, int]:
        """Domain ``name``'s state and libvirt's reason number for it (virDomain*Reason)."""
        state_number, reason = self._act("read the state of", name, "state")
        return DomainState.from_libvirt(state_number), reason

    def domain_id(self, name: str) -> int | None:
        """libvirt's id of running domain ``name`` (a new one each time it starts); None when it does not run."""
        number = self._act("read the id of", name, "ID")
        return None if number < 0 else number

    def is_persistent(self, name: str) -> bool:
        return self._act("read", name, "isPersistent") == 1

    # ------------------------------------------------------------------ migration (virt/migrate.py decides)
    def has_storage_volume(self, path: str) -> bool:
        """A storage pool of this host holds ``path`` (how a file of a remote host is checked)."""
        try:
            self._connect().storageVolLookupByPath(path)
        except libvirt.libvirtError as error:
            if error.get_error_code() in (libvirt.VIR_ERR_NO_STORAGE_VOL, libvirt.VIR_ERR_NO_STORAGE_POOL):
                return False
            raise self._translate(error, f"look for {path} in the storage pools") from None
        return True

    def migrate(self, name: str, target: Host, live: bool, on_progress: Callable[[MigrationProgress], None],
                poll_seconds: float = 0.2) -> MigrationProgress:
        """libvirt's managed migration of ``name`` to ``target`` (the client drives both daemons):
        persisted on the target, undefined here only once it succeeded (libvirt's own order);
        live (VIR_MIGRATE_LIVE) when ``live``, else offline (a shut-off domain's definition).
        ``on_progress`` gets the source's job statistics every ``poll_seconds``; the result is the
        completed job's (its downtime) as the target tells it, or the last progress seen."""
        domain = self._domain(name)
        destination = Host._connect(target)  # another Host's connection: the handles stay in this module
        flags = libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
        flags |= libvirt.VIR_MIGRATE_LIVE if live else libvirt.VIR_MIGRATE_OFFLINE
        outcome: list[BaseException | None] = []

        def run() -> None:
            try:
                domain.migrate3(destination, {}, flags)
                outcome.append(None)
            except libvirt.libvirtError as error:
                outcome.append(self._translate(error, f"migrate {name} to host {target.name}", name))

        worker = threading.Thread(target=run, name=f"migrate-{name}", daemon=True)
        started = time.monotonic()
        worker.start()
        last = MigrationProgress(0, 0, 0, 0, None)
        while worker.is_alive():
            worker.join(poll_seconds)
            if live and worker.is_alive():
                try:
                    stats = domain.jobStats()
                except libvirt.libvirtError:
                    continue  # the job ends between the check and the call
                if stats.get("type", libvirt.VIR_DOMAIN_JOB_NONE) != libvirt.VIR_DOMAIN_JOB_NONE and stats.get("data_total"):
                    last = MigrationProgress.from_stats(stats, int((time.monotonic() - started) * 1000))
                    on_progress(last)
        if outcome and outcome[0] is not None:
            raise outcome[0]
        self.forget_facts(name)
        if not live:
            return MigrationProgress(0, 0, 0, int((time.monotonic() - started) * 1000), None)
        try:
            # KEEP_COMPLETED: a later reader (virsh domjobinfo --completed) still finds them
            completed = destination.lookupByName(name).jobStats(
                libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED | libvirt.VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED)
        except libvirt.libvirtError:
            return last
        return MigrationProgress.from_stats(completed, int((time.monotonic() - started) * 1000))

    def interface_addresses(self, name: str, source: str) -> dict[str, Any]:
        """libvirt's guest addresses of ``name`` from ``source`` (one of ADDRESS_SOURCES), by
        interface: {"hwaddr": MAC, "addrs": [{"addr", "prefix", …}]}; a source that cannot
        answer raises VirtError with libvirt's words."""
        return self._act("read the addresses of", name, "interfaceAddresses", ADDRESS_SOURCES[source], 0) or {}

    # ------------------------------------------------------------------ snapshots, by name
    def snapshot_descriptions(self, name: str) -> list[tuple[str, bool]]:
        """(libvirt's XML description, is libvirt's current one) of each snapshot of ``name``."""
        domain = self._domain(name)
        found = []
        for snapshot in self._call(f"list the snapshots of {name}", domain.listAllSnapshots, 0, domain=name):
            text = self._call(f"read a snapshot of {name}", snapshot.getXMLDesc, 0, domain=name)
            found.append((text, self._call(f"read a snapshot of {name}", snapshot.isCurrent, 0, domain=name) == 1))
        return found

    def current_snapshot(self, name: str) -> str | None:
        """The name of libvirt's current snapshot of ``name``, None when it has none."""
        domain = self._domain(name)
        try:
            return domain.snapshotCurrent(0).getName()
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT:
                return None
            raise self._translate(error, f"read the current snapshot of {name}", name) from None

    def snapshot_create(self, name: str, xml: str) -> None:
        self._act("snapshot", name, "snapshotCreateXML", xml, 0)

    def snapshot_revert(self, name: str, snapshot: str, running: bool = False) -> None:
        """Revert ``name`` to ``snapshot`` (with ``running``, asking libvirt to leave it running);
        a revert libvirt calls risky (e.g. a running domain back to a shut-off snapshot) is forced."""
        domain = self._domain(name)
        target = self._snapshot(domain, name, snapshot)
        flags = libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING if running else 0
        try:
            domain.revertToSnapshot(target, flags)
        except libvirt.libvirtError as error:
            if error.get_error_code() != libvirt.VIR_ERR_SNAPSHOT_REVERT_RISKY:
                raise self._translate(error, f"revert {name} to snapshot {snapshot}", name) from None
            self._call(f"revert {name} to snapshot {snapshot}", domain.revertToSnapshot, target,
                       flags | libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_FORCE, domain=name)

    def snapshot_delete(self, name: str, snapshot: str) -> None:
        target = self._snapshot(self._domain(name), name, snapshot)
        self._call(f"delete snapshot {snapshot} of {name}", target.delete, 0, domain=name)

    def _snapshot(self, domain: libvirt.virDomain, name: str, snapshot: str) -> libvirt.virDomainSnapshot:
        try:
            return domain.snapshotLookupByName(snapshot, 0)
        except libvirt.libvirtError as error:
            if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT:
                raise self._translate(error, f"look up snapshot {snapshot} of {name}", name) from None
        names = sorted(self._call(f"list the snapshots of {name}", domain.snapshotListNames, 0, domain=name))
        raise SnapshotNotFound(
            f"{name} on host {self.name} has no snapshot called {snapshot!r}"
            + (f" (it has: {', '.join(names)})" if names else " (it has none)"),
            f"list them with `rfconsole snapshot list {name}`",
            host=self.name,
            domain=name,
        )

    # ------------------------------------------------------------------ consoles
    def open_console(self, name: str, take_over: bool = False) -> ConsoleStream | None:
        """Running domain ``name``'s first console (QEMU's serial pty, LXC's /dev/console) on a new
        non-blocking stream, not yet read (``start`` it); None when another client holds it.

        libvirt's VIR_DOMAIN_CONSOLE_SAFE always (refused while another client holds the console);
        ``take_over`` adds VIR_DOMAIN_CONSOLE_FORCE (libvirt disconnects that client). libvirt's
        LXC driver accepts neither flag: there the console opens without them and the stream is not
        ``exclusive`` (the host remembers). Raises ConsoleNotRunning, ConsoleUnavailable,
        DomainNotFound or HostUnavailable, having opened nothing."""
        domain = self._domain(name)
        state = self._domain_state(domain)
        if not state.is_active:
            raise ConsoleNotRunning(
                f"{name} on host {self.name} ({self.uri}) is {state}: its console exists only while it runs",
                f"start it first (rfconsole start {name}, or `s` in the console)",
                host=self.name,
                domain=name,
            )
        connection = self._connect()
        flags = libvirt.VIR_DOMAIN_CONSOLE_FORCE if take_over else 0
        if self._consoles_exclusive:
            flags |= libvirt.VIR_DOMAIN_CONSOLE_SAFE
        while True:
            try:
                stream = connection.newStream(libvirt.VIR_STREAM_NONBLOCK)
            except libvirt.libvirtError as error:
                raise self.console_error(error, f"open a stream for {name}", name) from None
            try:
                domain.openConsole(None, stream, flags)
                number = domain.ID()
                break
            except libvirt.libvirtError as error:
                _abort(stream)
                words = (error.get_error_message() or "").lower()
                if error.get_error_code() == libvirt.VIR_ERR_INVALID_ARG and "unsupported flags" in words and flags:
                    self._consoles_exclusive = False
                    flags = 0
                    continue
                if "active console session" in words or "held by another" in words:
                    return None
                raise self.console_error(error, f"open the console of {name}", name) from None
        return ConsoleStream(self, name, stream, exclusive=self._consoles_exclusive, domain_id=number)

    def console_error(self, error: libvirt.libvirtError, doing: str, name: str) -> VirtError:
        """libvirt's refusal of a console in rfconsole's words and kinds."""
        problem = self._translate(error, doing, name)
        if isinstance(problem, HostUnavailable):
            self._lost(problem)
        where = f"{name} on host {self.name} ({self.uri})"
        words = (problem.libvirt_message or "").lower()
        code, said = problem.code, problem.libvirt_message
        if problem.code == libvirt.VIR_ERR_NO_SUPPORT:
            return ConsoleUnavailable(
                f"host {self.name} ({self.uri}) has no text consoles: its libvirt driver does not offer them",
                "the demo's test driver has none; consoles work on qemu:// and lxc:// hosts",
                code=code, libvirt_message=said, host=self.name, domain=name,
            )
        if isinstance(problem, OperationInvalid) and "not running" in words:
            not_running = ConsoleNotRunning(
                f"{where} is not running: its console exists only while it runs",
                f"start it first (rfconsole start {name})",
                code=code, libvirt_message=said, host=self.name, domain=name,
            )
            not_running.console_hint = "start it first (s on the table)"
            return not_running
        # "not using a PTY", "PTY device is not yet assigned": QEMU's pty is announced a moment after the
        # domain's started event (after a snapshot revert most of all); the console tries again
        if "character device" in words or "cannot find" in words or "not using a pty" in words or "not yet assigned" in words:
            return ConsoleUnavailable(
                f"{where} has no console rfconsole can open: {problem.libvirt_message}",
                "give the domain a <console type='pty'/> (rfconsole's XML has one; `rfconsole xml show` the file)",
                code=code, libvirt_message=said, host=self.name, domain=name,
            )
        return problem

    # ------------------------------------------------------------------ statuses
    def statuses(self) -> list[DomainStatus]:
        """Every domain's status: one getAllDomainStats call where the driver gives every field
        (NOWAIT: a domain whose monitor is busy is read on its own), else one call per domain."""
        connection = self._connect()
        records: list[tuple[libvirt.virDomain, dict[str, Any] | None]] | None = self._bulk_records(connection)
        if records is None:
            records = [(domain, None) for domain in self._call("list the domains", connection.listAllDomains, 0)]
        result = []
        for domain, record in records:
            try:
                if record is not None and all(field in record for field in _STATUS_FIELDS):
                    result.append(self._status_of(domain, record["state.state"], record["balloon.maximum"],
                                                  record["balloon.current"], record["vcpu.current"], record["cpu.time"]))
                else:
                    result.append(self._status(domain))
            except DomainNotFound:  # undefined while we were reading
                continue
        return sorted(result, key=lambda status: status.name)

    def _bulk_records(self, connection: libvirt.virConnect) -> list[tuple[libvirt.virDomain, dict[str, Any] | None]] | None:
        """Every domain with its status fields from one call; None where the driver cannot say them
        all in one (remembered: the next polls go per domain at once)."""
        if self.bulk_statuses is False:
            return None
        try:
            records = self._call("read the domains' states", connection.getAllDomainStats, STATUS_GROUPS,
                                 libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT)
        except VirtError as error:
            if error.code != libvirt.VIR_ERR_NO_SUPPORT:
                raise
            self.bulk_statuses = False
            return None
        if records and not any(all(field in record for field in _STATUS_FIELDS) for _domain, record in records):
            self.bulk_statuses = False
        elif records:
            self.bulk_statuses = True
        return records

    def status(self, name: str) -> DomainStatus | None:
        domain = self._find(name)
        if domain is None:
            return None
        try:
            return self._status(domain)
        except DomainNotFound:
            return None

    def _status(self, domain: libvirt.virDomain) -> DomainStatus:
        name = domain.name()
        return self._status_of(domain, *self._call(f"read {name}", domain.info, domain=name))

    def _status_of(self, domain: libvirt.virDomain, state_number: int, max_kib: int, current_kib: int, vcpus: int,
                   cpu_time: int) -> DomainStatus:
        name = domain.name()
        state = DomainState.from_libvirt(state_number)
        owned, hypervisor = self._facts_of(domain)
        return DomainStatus(
            name=name,
            host=self.name,
            hypervisor=hypervisor,
            state=state,
            vcpus=vcpus,
            memory_mib=_memory_kib(hypervisor, state, max_kib, current_kib) // 1024,
            cpu_percent=self._sample_cpu(name, cpu_time, vcpus) if state.is_active else 0.0,
            owned=owned,
            demo=self.demo,
        )

    def _sample_cpu(self, name: str, cpu_time: int, vcpus: int, min_interval: float = 0.2) -> float:
        """CPU % of the domain's vCPUs between the previous sample and this one; a sample newer
        than ``min_interval`` keeps the last figure (so several readers do not shrink the window)."""
        now = time.monotonic()
        previous = self._cpu_samples.get(name)
        if previous is not None and now - previous[1] < min_interval:
            return self._cpu_percent.get(name, 0.0)
        self._cpu_samples[name] = (cpu_time, now)
        if previous is None:
            return self._cpu_percent.get(name, 0.0)
        elapsed_ns = (now - previous[1]) * 1e9 * max(1, vcpus)
        percent = max(0.0, min(100.0, 100.0 * (cpu_time - previous[0]) / elapsed_ns))
        self._cpu_percent[name] = percent
        return percent

    def domain_counters(self) -> list[DomainCounters]:
        """Every domain's counters (virt/stats.py) from one getAllDomainStats call; NOWAIT: a
        domain whose monitor is busy (a job running) reports what libvirt has without waiting."""
        connection = self._connect()
        records = self._call(
            "read the domains' statistics", connection.getAllDomainStats, STATS_GROUPS, libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT
        )
        at = time.monotonic()
        return [counters_from_record(self.name, domain.name(), record, at) for domain, record in records]

    def domain_counters_of(self, name: str) -> DomainCounters | None:
        """One domain's counters from one domainListGetStats call; None where the driver has no
        such call (LXC)."""
        domain = self._domain(name)
        connection = self._connect()
        try:
            records = self._call(f"read the statistics of {name}", connection.domainListGetStats, [domain], STATS_GROUPS,
                                 libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT, domain=name)
        except VirtError as error:
            if error.code == libvirt.VIR_ERR_NO_SUPPORT:
                return None
            raise
        at = time.monotonic()
        return next((counters_from_record(self.name, name, record, at) for _domain, record in records), None)

    def needs_cpu_sample(self) -> bool:
        """Some running domain has no CPU sample yet (its CPU % would read 0)."""
        return any(status.state.is_active and status.name not in self._cpu_percent for status in self.statuses())

    # ------------------------------------------------------------------ capabilities
    def host_capabilities(self) -> HostCapabilities:
        with self._capabilities_lock:
            if self._capabilities is None:
                self._capabilities = self._read_capabilities()
            return self._capabilities

    def _read_capabilities(self) -> HostCapabilities:
        connection = self._connect()
        driver = self._call("read the driver type", connection.getType)
        text = self._call("read the capabilities", connection.getCapabilities)
        return parse_capabilities(self.name, driver, text, self._kvm_refusal)

    def _kvm_refusal(self, arch: str) -> str | None:
        try:
            self._connect().getDomainCapabilities(None, arch, None, "kvm", 0)
        except libvirt.libvirtError as error:
            return error.get_error_message()
        return None

    def capabilities(self) -> set[Hypervisor]:
        """The hypervisors this host really runs."""
        return self.host_capabilities().hypervisors

    def unavailable_reason(self, hypervisor: Hypervisor) -> str:
        """Why this host cannot run ``hypervisor``; '' when it can."""
        try:
            return self.host_capabilities().reason(Hypervisor(hypervisor))
        except VirtError as error:
            return error.message

    def memory_mib(self) -> int | None:
        """The host's memory in MiB (libvirt's node info); None when it cannot be read."""
        connection = self._connect()
        try:
            return int(connection.getInfo()[1])
        except libvirt.libvirtError:
            return None

    def max_vcpus(self) -> int | None:
        connection = self._connect()
        try:
            return connection.getMaxVcpus(None)
        except libvirt.libvirtError:
            return None


# ---------------------------------------------------------------------------- console streams
READ_CHUNK = 65536
MAX_READS_PER_EVENT = 16  # then let the loop serve the other streams and connections
_READ_EVENTS = libvirt.VIR_STREAM_EVENT_READABLE | libvirt.VIR_STREAM_EVENT_ERROR | libvirt.VIR_STREAM_EVENT_HANGUP
_WRITE_EVENTS = _READ_EVENTS | libvirt.VIR_STREAM_EVENT_WRITABLE
_ENDING_EVENTS = libvirt.VIR_STREAM_EVENT_ERROR | libvirt.VIR_STREAM_EVENT_HANGUP


class ConsoleStream:
    """One domain's console as ``Host.open_console`` opened it: libvirt's non-blocking stream,
    served by the process's one event loop; the stream itself never leaves this object.

    ``start(on_data, on_end)`` begins reading: ``on_data(bytes)`` gets what the guest writes, on the
    event-loop thread; ``on_end(problem)`` is called once when the stream ends by itself (hang-up,
    error; never after ``close()``), on the event-loop thread or a thread of its own, with libvirt's
    words or None. ``send`` may be called from any thread: what the stream cannot take at once
    waits for its writable event. ``exclusive``: opened with VIR_DOMAIN_CONSOLE_SAFE;
    ``domain_id``: libvirt's id of the domain when opened (a restarted domain has another)."""

    def __init__(self, host: Host, name: str, stream: libvirt.virStream, *, exclusive: bool, domain_id: int) -> None:
        self.host = host
        self.name = name
        self.exclusive = exclusive
        self.domain_id = domain_id
        self._stream = stream
        self._lock = threading.Lock()
        self._pending = bytearray()
        self._writable_wanted = False
        self._open = True
        self._ended = False
        self._on_data: Callable[[bytes], None] = lambda _data: None
        self._on_end: Callable[[str | None], None] = lambda _problem: None

    def __repr__(self) -> str:
        return f"ConsoleStream({self.name!r} on {self.host.name!r}, {'open' if self._open else 'closed'})"

    def start(self, on_data: Callable[[bytes], None], on_end: Callable[[str | None], None]) -> None:
        """Begin reading; a VirtError (the stream closed) when libvirt cannot watch the stream."""
        self._on_data, self._on_end = on_data, on_end
        try:
            self._stream.eventAddCallback(_READ_EVENTS, self._on_stream, None)
        except libvirt.libvirtError as error:
            self.close()
            raise self.host.console_error(error, f"watch the console of {self.name}", self.name) from None

    def _on_stream(self, _stream: libvirt.virStream, events: int, _opaque: Any) -> None:
        """libvirt's stream callback, on the event-loop thread."""
        if not self._open:
            return
        if events & libvirt.VIR_STREAM_EVENT_WRITABLE:
            with self._lock:
                self._flush()
        for _ in range(MAX_READS_PER_EVENT):
            try:
                data = self._stream.recv(READ_CHUNK)
            except libvirt.libvirtError as error:
                self._end(error.get_error_message())
                return
            if data == -2:  # nothing more for now
                if events & _ENDING_EVENTS:
                    self._end("the stream hung up")
                return
            if not data:
                self._end(None)
                return
            try:
                self._on_data(data)
            except Exception:  # noqa: BLE001 - a face's bug must not kill the event loop
                log.exception("console output callback failed")

    def send(self, data: bytes) -> bool:
        """Queue ``data`` for the guest; False when the stream has ended or was closed (nothing sent)."""
        with self._lock:
            if not self._open or self._ended:
                return False
            if data:
                self._pending += data
                self._flush()
            return True

    def _flush(self) -> None:
        """Send what is pending (with the lock held)."""
        while self._pending and self._open:
            try:
                sent = self._stream.send(bytes(self._pending[:READ_CHUNK]))
            except libvirt.libvirtError as error:  # reported off this thread: the caller holds the lock
                threading.Thread(target=self._end, args=(error.get_error_message(),), daemon=True).start()
                return
            if sent == -2:  # the stream is full: wait for its writable event
                if not self._writable_wanted:
                    self._update_events(_WRITE_EVENTS)
                    self._writable_wanted = True
                return
            del self._pending[:sent]
        if self._writable_wanted:
            self._update_events(_READ_EVENTS)
            self._writable_wanted = False

    def _update_events(self, events: int) -> None:
        try:
            self._stream.eventUpdateCallback(events)
        except libvirt.libvirtError as error:  # the stream is going away; its end is reported elsewhere
            log.debug("console stream: %s", error.get_error_message())

    def _end(self, problem: str | None) -> None:
        with self._lock:
            if self._ended or not self._open:
                return
            self._ended = True
        try:
            self._on_end(problem)
        except Exception:  # noqa: BLE001
            log.exception("console end callback failed")

    def close(self) -> None:
        """Stop reading and free the stream; idempotent. Not from libvirt's close callback: freeing a
        stream of a dead connection there deadlocks on the connection's lock."""
        with self._lock:
            if not self._open:
                return
            self._open = False
            self._pending.clear()
        try:
            self._stream.eventRemoveCallback()
        except libvirt.libvirtError:
            pass
        _abort(self._stream)


def _abort(stream: libvirt.virStream) -> None:
    try:
        stream.abort()
    except libvirt.libvirtError:
        pass


def _memory_kib(hypervisor: Hypervisor | None, state: DomainState, max_kib: int, current_kib: int) -> int:
    """The memory a domain has: a running VM's current (balloon) allocation, else its maximum.
    An LXC domain's current memory is what its processes use (a few MiB), not an allocation."""
    if state.is_active and hypervisor is not Hypervisor.LXC and current_kib:
        return current_kib
    return max_kib
