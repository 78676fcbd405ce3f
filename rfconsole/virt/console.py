"""A domain's text console (QEMU's serial pty, LXC's /dev/console) through libvirt's streams.

A session, with no libvirt handle of its own: ``Console.open()`` asks the host for the domain's
first console (``Host.open_console``, which keeps libvirt's stream inside a ``ConsoleStream``
served by the process's one libvirt event loop): what the guest writes reaches
``on_output(bytes)`` on that loop's thread; ``send(bytes)`` may be called from any thread. How a
session ends reaches ``on_notice(ConsoleNotice)``, in words.

The console is opened with ``VIR_DOMAIN_CONSOLE_SAFE`` (refused while another client holds it);
``force=True`` takes it over (``VIR_DOMAIN_CONSOLE_FORCE``, which disconnects the other client),
and only when it really is held. libvirt never says *which* client holds a console; rfconsole
can say so only when it is one of its own. libvirt's LXC driver accepts neither flag: there a
console is never exclusive, and ``exclusive`` is False.

A connection that dies (libvirtd gone) gives its streams no event: the console watches its
host's events for that. ``follow=True`` (the full-screen console) keeps the session across a reboot or redeploy of the
guest and a restart of libvirtd: when the stream ends because the domain stopped, or the host
went away, the console waits and reattaches on the domain's next ``started`` event (or when the
host reconnects with the domain running), and says so. A console taken over by another client
is not retaken.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from rfconsole.virt.errors import (
    ConsoleBusy,
    ConsoleNotRunning,
    ConsoleUnavailable,
    DomainNotFound,
    HostUnavailable,
    VirtError,
)
from rfconsole.virt.events import DomainEvent, EventKind, HostEvent
from rfconsole.virt.host import ConsoleStream, Host

log = logging.getLogger(__name__)

SETTLE_SECONDS = 3.0  # how long a console that looks taken over waits for its domain's stop event
DETACH_KEY = b"\x1d"  # ctrl+], as in virsh console
DETACH_KEY_NAME = "ctrl+]"


REATTACH_SETTLE_SECONDS = 5.0


class ConsoleState(str, Enum):
    ATTACHED = "attached"
    WAITING = "waiting"  # follow mode: the stream ended; reattaches when the domain runs again
    CLOSED = "closed"

    def __str__(self) -> str:
        return self.value


class ConsoleEnd(str, Enum):
    """Why a stream ended."""

    DETACHED = "detached"  # the user closed it
    STOPPED = "stopped"  # the domain stopped or was undefined
    RESTARTED = "restarted"  # the domain runs again already (a fast reboot or redeploy)
    TAKEN_OVER = "taken over"  # libvirt closed it while the domain kept running: another client forced it
    HOST_LOST = "host lost"  # the daemon or the connection to it went away

    def __str__(self) -> str:
        return self.value

    @property
    def problem(self) -> bool:
        """An end the user did not choose and the guest did not cause."""
        return self in (ConsoleEnd.TAKEN_OVER, ConsoleEnd.HOST_LOST)


@dataclass(frozen=True)
class ConsoleNotice:
    """A change of a console session, in words for the user."""

    state: ConsoleState
    message: str
    end: ConsoleEnd | None = None
    time: float = field(default_factory=time.time)

    @property
    def problem(self) -> bool:
        return self.end is not None and self.end.problem


OutputCallback = Callable[[bytes], None]
NoticeCallback = Callable[[ConsoleNotice], None]

_holders_lock = threading.Lock()
_holders: dict[tuple[str, str], Console] = {}  # (uri, domain) -> this process's open console


class Console:
    """One domain's console on one host; see the module's docstring."""

    def __init__(
        self,
        host: Host,
        name: str,
        on_output: OutputCallback,
        on_notice: NoticeCallback | None = None,
        *,
        force: bool = False,
        follow: bool = False,
    ) -> None:
        self.host = host
        self.name = name
        self.force = force
        self.follow = follow
        self.exclusive = True
        self.took_over = False
        self._on_output = on_output
        self._on_notice = on_notice
        self._lock = threading.RLock()
        self._stream: ConsoleStream | None = None
        self._domain_id: int | None = None
        self._state = ConsoleState.CLOSED
        self._closing = False
        self._ended = threading.Event()
        self.end: ConsoleEnd | None = None
        self.end_message: str | None = None
        self._subscribed = False
        self._domain_changed = threading.Event()  # a lifecycle event of the domain since the stream ended

    def __repr__(self) -> str:
        return f"Console({self.name!r} on {self.host.name!r}, {self._state})"

    @property
    def where(self) -> str:
        return f"{self.name} on host {self.host.name} ({self.host.uri})"

    @property
    def state(self) -> ConsoleState:
        return self._state

    @property
    def attached(self) -> bool:
        return self._state is ConsoleState.ATTACHED

    # ------------------------------------------------------------------ opening
    def open(self) -> str:
        """Attach to the console; the outcome in words. Raises ConsoleNotRunning, ConsoleBusy,
        ConsoleUnavailable, DomainNotFound or HostUnavailable, having touched nothing."""
        self._closing = False
        self._ended.clear()
        self.end = self.end_message = None
        if not self._subscribed:  # a dead connection's streams get no event of their own: watch the host
            self.host.subscribe(self._on_host_event)
            self._subscribed = True
        try:
            self._attach(force=self.force)
        except BaseException:
            self._unsubscribe()
            raise
        return self.describe()

    def describe(self) -> str:
        """The attached session in words."""
        words = f"connected to the console of {self.where}"
        if self.took_over:
            words += "; took it over from the client that held it (that client was disconnected)"
        if not self.exclusive:
            words += "; libvirt's driver here cannot make a console exclusive: other clients may share it"
        return words

    def _attach(self, force: bool) -> None:
        stream = self.host.open_console(self.name)
        if stream is None:  # held by another client
            if not force:
                raise self._busy()
            stream = self.host.open_console(self.name, take_over=True)
            if stream is None:
                raise self._busy()
            self.took_over = True
        with self._lock:
            self._stream = stream
            self.exclusive = stream.exclusive
            self._domain_id = stream.domain_id
            self._state = ConsoleState.ATTACHED
        with _holders_lock:
            _holders[(self.host.uri, self.name)] = self
        try:
            stream.start(lambda data: self._output(stream, data), lambda problem: self._lost(stream, problem))
        except VirtError:
            with self._lock:
                self._stream = None
                self._state = ConsoleState.CLOSED
            self._drop(stream)
            raise

    def _busy(self) -> ConsoleBusy:
        with _holders_lock:
            holder = _holders.get((self.host.uri, self.name))
        who = (
            "this rfconsole's own console session of it (close that one first)"
            if holder is not None and holder is not self
            else "another client (libvirt does not say which: virsh console, virt-manager, another rfconsole …)"
        )
        return ConsoleBusy(
            f"the console of {self.where} is held by {who}",
            "close that session, or take it over: --force on the command line (the console asks) — the other client is disconnected",
        )

    # ------------------------------------------------------------------ the stream
    def _output(self, stream: ConsoleStream, data: bytes) -> None:
        """What the guest wrote, on the event-loop thread."""
        if stream is self._stream:
            self._on_output(data)

    def send(self, data: bytes) -> bool:
        """Queue ``data`` for the guest; False when no stream is attached (nothing is sent)."""
        stream = self._stream
        return stream is not None and stream.send(data)

    def _lost(self, stream: ConsoleStream, problem: str | None) -> None:
        """The stream ended by itself: find out why (off the event-loop thread) and report it."""
        with self._lock:
            if stream is not self._stream:
                return
            self._stream = None
            self._state = ConsoleState.WAITING if self.follow else ConsoleState.CLOSED
            self._domain_changed.clear()
        # Not on the event-loop thread: freeing a stream of a dead connection from libvirt's close
        # callback deadlocks on the connection's lock.
        threading.Thread(target=self._explain_end, args=(stream, problem), name=f"console-{self.name}", daemon=True).start()

    def _explain_end(self, stream: ConsoleStream, problem: str | None) -> None:
        self._drop(stream)
        if self._closing:
            return
        end, message = self._why_ended(problem)
        if self._closing:
            return
        if self.follow and end is not ConsoleEnd.TAKEN_OVER:
            with self._lock:
                if self._stream is not None or self._state is not ConsoleState.WAITING:
                    return  # the domain's started event came first and reattached it already (a revert's restart)
                self._state = ConsoleState.WAITING
            self._notify(ConsoleNotice(ConsoleState.WAITING, f"{message}; the console reattaches when it runs again", end))
            if end is ConsoleEnd.RESTARTED:
                self._reattach()
            return
        self._finish(end, message)

    def _why_ended(self, problem: str | None) -> tuple[ConsoleEnd, str]:
        end = self._why_ended_now(problem)
        if end[0] is ConsoleEnd.TAKEN_OVER and self._domain_changed.wait(SETTLE_SECONDS):
            # A destroyed domain's console hangs up while libvirt still calls it running (QEMU is
            # gone, libvirt has not yet seen it): its stop event, not a take-over, follows.
            end = self._why_ended_now(problem)
        return end

    def _why_ended_now(self, problem: str | None) -> tuple[ConsoleEnd, str]:
        try:
            state = self.host.state(self.name)
            if state is None:
                return ConsoleEnd.STOPPED, f"{self.where} was undefined"
            if not state.is_active:
                return ConsoleEnd.STOPPED, f"{self.where} is {state}"
            if self.host.domain_id(self.name) != self._domain_id:
                return ConsoleEnd.RESTARTED, f"{self.where} was restarted"
        except DomainNotFound:
            return ConsoleEnd.STOPPED, f"{self.where} was undefined"
        except HostUnavailable as lost:
            why = self.host.problem or lost.libvirt_message or str(lost)
            return ConsoleEnd.HOST_LOST, f"host {self.host.name} ({self.host.uri}) went away ({why})"
        except VirtError as other:
            return ConsoleEnd.HOST_LOST, f"cannot reach {self.where}: {other}"
        said = f" ({problem})" if problem else ""
        return (
            ConsoleEnd.TAKEN_OVER,
            f"libvirt closed the console of {self.where}{said} while it kept running: another client took it over",
        )

    def _finish(self, end: ConsoleEnd, message: str) -> None:
        with self._lock:
            self._state = ConsoleState.CLOSED
        self.end, self.end_message = end, message
        self._unsubscribe()
        self._ended.set()
        if end is not ConsoleEnd.DETACHED:
            self._notify(ConsoleNotice(ConsoleState.CLOSED, message, end))

    def _drop(self, stream: ConsoleStream) -> None:
        with _holders_lock:
            if _holders.get((self.host.uri, self.name)) is self:
                del _holders[(self.host.uri, self.name)]
        stream.close()

    # ------------------------------------------------------------------ following the domain
    def _on_host_event(self, event: Any) -> None:
        """The host's events, on the event-loop thread: a lost connection ends the stream (libvirt
        does not tell the stream); in follow mode, reattach on the domain's next start."""
        if self._closing:
            return
        if isinstance(event, DomainEvent) and event.domain == self.name:
            self._domain_changed.set()
        if isinstance(event, HostEvent) and not event.connected:
            stream = self._stream
            if stream is not None:
                self._lost(stream, event.reason)
            return
        if self._state is not ConsoleState.WAITING:
            return
        starts = isinstance(event, DomainEvent) and event.domain == self.name and event.kind is EventKind.STARTED
        reconnected = isinstance(event, HostEvent) and event.connected
        if starts or reconnected:
            threading.Thread(target=self._reattach, name=f"console-{self.name}", daemon=True).start()

    def _reattach(self) -> None:
        deadline = time.monotonic() + REATTACH_SETTLE_SECONDS
        while True:
            with self._lock:
                if self._state is not ConsoleState.WAITING or self._closing:
                    return
                try:
                    self._attach(force=False)
                    break
                except (ConsoleNotRunning, DomainNotFound, HostUnavailable):
                    return  # not yet: the next started or reconnected event tries again
                except ConsoleUnavailable as problem:
                    # QEMU's pty can be announced a moment after the started event (libvirtd
                    # says "not using a PTY" meanwhile): only a console still missing later is final
                    if time.monotonic() >= deadline:
                        self._finish(ConsoleEnd.HOST_LOST, str(problem))
                        return
                except VirtError as problem:
                    self._finish(ConsoleEnd.TAKEN_OVER if isinstance(problem, ConsoleBusy) else ConsoleEnd.HOST_LOST, str(problem))
                    return
            time.sleep(0.2)
        self._notify(ConsoleNotice(ConsoleState.ATTACHED, f"reattached to the console of {self.where}: it runs again"))

    # ------------------------------------------------------------------ closing
    def close(self) -> None:
        """Detach (the domain keeps running); idempotent."""
        self._closing = True
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            self._drop(stream)
        if self._state is not ConsoleState.CLOSED or not self._ended.is_set():
            self._finish(ConsoleEnd.DETACHED, f"detached from the console of {self.where}")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the session has ended (closed, or ended by itself without follow)."""
        return self._ended.wait(timeout)

    def _unsubscribe(self) -> None:
        if self._subscribed:
            self.host.unsubscribe(self._on_host_event)
            self._subscribed = False

    def _notify(self, notice: ConsoleNotice) -> None:
        if self._on_notice is None:
            return
        try:
            self._on_notice(notice)
        except Exception:  # noqa: BLE001
            log.exception("console notice callback failed")
