"""Switch up -> start the VMs mapped to it, once; optionally shut them down when idle.

Listens to a SwitchRegistry. Event handlers never block: the libvirt work runs in a small
thread pool, one lock per VM, and libvirt's own state is checked under that lock, so a switch
that reconnects, two switches mapped to one VM, or a burst of switches start a VM exactly once.
Every decision is logged with its times, relative to the switch coming up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rfconsole.errors import RfconsoleError
from rfconsole.ondemand.mapping import DatapathMap
from rfconsole.ondemand.registry import (
    SwitchEvent,
    SwitchEventKind,
    SwitchRegistry,
    format_datapath_id,
)
from rfconsole.virt.events import DomainState

if TYPE_CHECKING:
    from rfconsole.virt.fleet import Fleet

log = logging.getLogger("rfconsole.ondemand")


@dataclass
class BootRecord:
    """What the booter did for one VM when one switch came up (times: time.monotonic())."""

    vm: str
    datapath_id: int
    switch_up: float
    outcome: str = "pending"  # started | defined and started | already running | failed | off
    issued: float | None = None  # start issued
    running: float | None = None  # libvirt says running
    error: str | None = None


class Booter:
    """``Booter(fleet, mapping)``: boots the VMs mapped to each switch that comes up.

    ``mapping`` is a DatapathMap or a plain {datapath id: VM names}. ``idle_shutdown`` > 0:
    that many seconds after the last switch mapped to a VM goes down, shut the VM down, if the
    booter started it.
    """

    def __init__(
        self,
        fleet: Fleet,
        mapping: DatapathMap | Mapping[int, Sequence[str]],
        *,
        idle_shutdown: float = 0.0,
        enabled: bool = True,
        workers: int = 8,
        refresh: Callable[[], DatapathMap | None] | None = None,
    ) -> None:
        """``refresh()``, asked when a switch comes up, returns a new map when its sources
        changed (None: keep this one)."""
        self.fleet = fleet
        self._refresh = refresh
        self._registry: SwitchRegistry | None = None
        self.mapping = mapping if isinstance(mapping, DatapathMap) else DatapathMap({k: tuple(v) for k, v in mapping.items()})
        self.idle_shutdown = idle_shutdown
        self._enabled = enabled
        self._lock = threading.Lock()
        self._vm_locks: dict[str, threading.Lock] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rfconsole-booter")
        self._pending: set[Future[None]] = set()
        self._idle = threading.Condition(self._lock)
        self._up: set[int] = set()  # datapath ids connected now
        self._booted: set[str] = set()  # VMs this booter started (idle shutdown touches only those)
        self._timers: dict[str, threading.Timer] = {}
        self.records: list[BootRecord] = []
        self.start_calls: dict[str, int] = {}  # VM -> how many times start was issued
        self._listeners: list[Callable[[BootRecord], None]] = []

    # ------------------------------------------------------------------ switching on and off
    @property
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, enabled: bool) -> None:
        with self._lock:
            self._enabled = enabled
        log.info("on-demand booting %s", "on" if enabled else "off")

    def attach(self, registry: SwitchRegistry) -> Callable[[], None]:
        """Listen to ``registry``; returns the function that stops listening."""
        self._registry = registry
        registry.set_mapping(self.mapping.vms)
        return registry.subscribe(self.on_switch_event)

    def set_mapping(self, mapping: DatapathMap) -> None:
        """Boot by ``mapping`` from now on (the registry's switches show their new VMs)."""
        with self._lock:
            self.mapping = mapping
            registry = self._registry
        if registry is not None:
            registry.set_mapping(mapping.vms)

    def subscribe(self, listener: Callable[[BootRecord], None]) -> Callable[[], None]:
        """Call ``listener(record)`` (in a booter thread) when a boot decision is complete;
        returns the function that stops it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    # ------------------------------------------------------------------ events
    def on_switch_event(self, event: SwitchEvent) -> None:
        datapath_id = event.switch.datapath_id
        if event.kind is SwitchEventKind.UP and self._refresh is not None:
            fresh = self._refresh()
            if fresh is not None:
                self.set_mapping(fresh)
        vms = self.mapping.for_datapath(datapath_id)
        dpid = format_datapath_id(datapath_id)
        with self._lock:
            if event.kind is SwitchEventKind.UP:
                self._up.add(datapath_id)
            else:
                self._up.discard(datapath_id)
            enabled = self._enabled
        if event.kind is SwitchEventKind.DOWN:
            if vms and enabled and self.idle_shutdown > 0:
                for vm in vms:
                    self._schedule_idle_shutdown(vm)
            return
        if not vms:
            log.info("switch %s up: mapped to no VM, nothing to do", dpid)
            return
        for vm in vms:
            self._cancel_idle_shutdown(vm)
        if not enabled:
            log.info("switch %s up: on-demand booting is off, %s left as they are", dpid, ", ".join(vms))
            return
        log.info("switch %s up at %s: mapped to %s", dpid, event.switch.connected_since.astimezone().strftime("%H:%M:%S.%f")[:-3], ", ".join(vms))
        for vm in vms:
            record = BootRecord(vm, datapath_id, event.monotonic)
            with self._lock:
                self.records.append(record)
            self._submit(self._ensure_running, record)

    def _submit(self, job: Callable[..., None], *args: object) -> None:
        with self._lock:
            future = self._pool.submit(job, *args)
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)
            self._idle.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no boot or shutdown is in progress; False if ``timeout`` passed first."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._pending, timeout)

    def _vm_lock(self, vm: str) -> threading.Lock:
        with self._lock:
            return self._vm_locks.setdefault(vm, threading.Lock())

    # ------------------------------------------------------------------ the work (booter threads)
    def _state(self, vm: str) -> DomainState | None:
        """libvirt's state of ``vm``, None when no host knows it."""
        status = self.fleet.status(vm)
        return None if status is None else status.state

    def _ensure_running(self, record: BootRecord) -> None:
        vm, dpid = record.vm, format_datapath_id(record.datapath_id)
        try:
            with self._vm_lock(vm):
                state = self._state(vm)
                if state is not None and state.is_active:
                    record.outcome = "already running"
                    log.info("%s: already %s (switch %s), nothing to do", vm, state, dpid)
                    return
                stages: list[str] = []

                def stage(word: str) -> None:
                    stages.append(word)
                    if word == "start":
                        if "define" in stages:
                            log.info("%s: defined from its XML at +%.3f s (switch %s)", vm, time.monotonic() - record.switch_up, dpid)
                        record.issued = time.monotonic()
                        with self._lock:
                            self.start_calls[vm] = self.start_calls.get(vm, 0) + 1
                        log.info("%s: start issued at +%.3f s (switch %s)", vm, record.issued - record.switch_up, dpid)

                self.fleet.up(vm, stage=stage)  # the CLI's `up`: define from XML/ if unknown, start, wait running
                defined = "define" in stages
                state = self._state(vm)
                record.running = time.monotonic()
                record.outcome = "defined and started" if defined else "started"
                with self._lock:
                    self._booted.add(vm)
                log.info("%s: %s at +%.3f s (switch %s)", vm, state, record.running - record.switch_up, dpid)
        except RfconsoleError as error:
            record.outcome, record.error = "failed", error.message
            log.error("%s: cannot start it for switch %s: %s%s", vm, dpid, error.message, f" ({error.hint})" if error.hint else "")
        except Exception as error:  # noqa: BLE001 - a bug here must be logged, not lost in a pool thread
            record.outcome, record.error = "failed", repr(error)
            log.exception("%s: starting it for switch %s failed", vm, dpid)
        finally:
            with self._lock:
                listeners = list(self._listeners)
            for listener in listeners:
                try:
                    listener(record)
                except Exception:
                    log.exception("a boot listener failed")

    # ------------------------------------------------------------------ idle shutdown
    def _schedule_idle_shutdown(self, vm: str) -> None:
        with self._lock:
            if vm not in self._booted or self._up & self.mapping.datapaths_of(vm):
                return
            if vm in self._timers:
                self._timers.pop(vm).cancel()
            timer = threading.Timer(self.idle_shutdown, self._idle_expired, args=(vm,))
            timer.daemon = True
            self._timers[vm] = timer
        log.info("%s: no switch of it is up; shutting it down in %g s unless one comes back", vm, self.idle_shutdown)
        timer.start()

    def _cancel_idle_shutdown(self, vm: str) -> None:
        with self._lock:
            timer = self._timers.pop(vm, None)
        if timer is not None:
            timer.cancel()
            log.info("%s: a switch of it came back, idle shutdown cancelled", vm)

    def _idle_expired(self, vm: str) -> None:
        with self._lock:
            self._timers.pop(vm, None)
            if self._up & self.mapping.datapaths_of(vm) or not self._enabled:
                return
        self._submit(self._shut_down, vm)

    def _shut_down(self, vm: str) -> None:
        try:
            with self._vm_lock(vm):
                with self._lock:
                    if self._up & self.mapping.datapaths_of(vm):
                        return
                    self._booted.discard(vm)
                log.info("%s: idle for %g s since its last switch left, shutting it down", vm, self.idle_shutdown)
                self.fleet.shutdown(vm)
        except RfconsoleError as error:
            log.error("%s: idle shutdown failed: %s", vm, error.message)

    def close(self) -> None:
        """Cancel pending idle shutdowns and wait for running work to end."""
        with self._lock:
            timers = list(self._timers.values())
            self._timers.clear()
        for timer in timers:
            timer.cancel()
        self._pool.shutdown(wait=True)
