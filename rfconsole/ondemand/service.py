"""On-demand boot as one object for the faces: listener + switch registry + booter.

``rfconsole watch`` runs it in its own asyncio loop (``await service.serve(stop)``); the
console runs it in a background thread (``service.start_in_thread()``) and reads it from its
own thread: every method below except ``serve`` is thread-safe.

    service = OnDemand(fleet, store, config.ondemand)
    service.start_in_thread()              # -> (host, port); RfconsoleError if it cannot listen
    service.switches()                      # -> [Switch(datapath_id, address, version, connected_since, vms, role, …)]
    unsubscribe = service.subscribe(cb)     # cb(SwitchEvent) on the listener's thread, for every up and down
    service.enabled; service.set_enabled(False); service.toggle()
    service.stop()
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from rfconsole.errors import RfconsoleError
from rfconsole.ondemand.booter import Booter, BootRecord
from rfconsole.ondemand.listener import ListenerSettings, SwitchListener
from rfconsole.ondemand.mapping import DatapathMap, MapSource
from rfconsole.ondemand.registry import (
    Switch,
    SwitchEvent,
    SwitchEventKind,
    SwitchRegistry,
    format_datapath_id,
)

if TYPE_CHECKING:
    from rfconsole.config import OndemandSettings
    from rfconsole.store import Store
    from rfconsole.virt.fleet import Fleet
    from rfconsole.virt.timeline import Timeline

log = logging.getLogger("rfconsole.ondemand")


class OnDemand:
    def __init__(
        self,
        fleet: Fleet,
        store: Store | None,
        settings: OndemandSettings,
        *,
        routeflow_config: str | os.PathLike[str] | None = None,
        listen: tuple[str, int] | None = None,
        listener_settings: ListenerSettings | None = None,
        enabled: bool = True,
    ) -> None:
        """``routeflow_config`` and ``listen`` override the settings' (the command line's options)."""
        self._map_source = MapSource(store, routeflow_config or settings.routeflow_config, settings.map)
        self.registry = SwitchRegistry()
        self.booter = Booter(
            fleet, self._map_source.build(), idle_shutdown=settings.idle_shutdown, enabled=enabled, refresh=self._mapping_if_changed
        )
        self.booter.attach(self.registry)
        host, port = listen or (settings.listen_host, settings.listen_port)
        if listener_settings is None:
            listener_settings = ListenerSettings(max_per_address=settings.max_per_address)
        self.listener = SwitchListener(self.registry, dataclasses.replace(listener_settings, host=host, port=port))
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    # ------------------------------------------------------------------ for the console (thread-safe)
    @property
    def address(self) -> tuple[str, int]:
        return self.listener.address

    def switches(self) -> list[Switch]:
        return self.registry.switches()

    def subscribe(self, callback: Callable[[SwitchEvent], None]) -> Callable[[], None]:
        return self.registry.subscribe(callback)

    def subscribe_boots(self, callback: Callable[[BootRecord], None]) -> Callable[[], None]:
        """``callback(record)`` from a booter thread when a boot decision is complete."""
        return self.booter.subscribe(callback)

    def record_on(self, timeline: Timeline) -> Callable[[], None]:
        """Every switch up and down and every boot decision (with its latency) on ``timeline``;
        returns the function that stops recording."""

        def switch_event(event: SwitchEvent) -> None:
            switch = event.switch
            if event.kind is SwitchEventKind.UP:
                decision = "booting on demand" if self.enabled and switch.vms else "on-demand booting off" if switch.vms else "mapped to no VM"
                what = f"up from {switch.address} ({switch.version}): {decision}"
            else:
                what = f"down ({event.reason})" if event.reason else "down"
            timeline.record("switch", switch.dpid, what, datapath_id=switch.datapath_id, vms=list(switch.vms), address=switch.address,
                            version=switch.version, event=event.kind.value)

        def boot(record: BootRecord) -> None:
            dpid = format_datapath_id(record.datapath_id)
            latency = None if record.running is None else round(record.running - record.switch_up, 3)
            issued = None if record.issued is None else round(record.issued - record.switch_up, 3)
            what = f"{record.outcome} for switch {dpid}"
            if latency is not None:
                what += f", running {latency:.3f} s after the switch came up"
            if record.error:
                what += f": {record.error}"
            status = None
            try:
                status = self.booter.fleet.status(record.vm)
            except RfconsoleError:
                pass
            timeline.record("boot", record.vm, what, host=status.host if status is not None else None, datapath_id=record.datapath_id,
                            outcome=record.outcome, latency_s=latency, start_issued_s=issued, error=record.error)

        stops = [self.subscribe(switch_event), self.subscribe_boots(boot)]

        def stop() -> None:
            for unsubscribe in stops:
                unsubscribe()

        return stop

    @property
    def enabled(self) -> bool:
        return self.booter.enabled

    def set_enabled(self, enabled: bool) -> None:
        self.booter.set_enabled(enabled)

    def toggle(self) -> bool:
        self.set_enabled(not self.enabled)
        return self.enabled

    # ------------------------------------------------------------------ running
    @property
    def mapping(self) -> DatapathMap:
        """The switch -> VMs map the booter goes by now."""
        return self.booter.mapping

    def _mapping_if_changed(self) -> DatapathMap | None:
        """The map read again when RouteFlow's CSV or XML/ changed since it was read (a VM added
        with its rows while watch runs); a CSV that cannot be read now keeps the old map."""
        if not self._map_source.changed():
            return None
        try:
            mapping = self._map_source.build()
        except RfconsoleError as error:
            log.warning("RouteFlow's CSV or XML/ changed, but the switch map cannot be read again (the previous one stays): %s", error.message)
            return None
        log.info("RouteFlow's CSV or XML/ changed: the switch map is read again: %s", "; ".join(self.describe_mapping_of(mapping)))
        for note in mapping.notes:
            log.warning("%s", note)
        return mapping

    @staticmethod
    def describe_mapping_of(mapping: DatapathMap) -> list[str]:
        lines = [f"switch {format_datapath_id(dp)} -> {', '.join(vms)}" for dp, vms in sorted(mapping.vms.items())]
        return lines or ["no switch is mapped to a VM: give --routeflow-config FILE or [ondemand.map] in rfconsole.toml"]

    def describe_mapping(self) -> list[str]:
        return self.describe_mapping_of(self.mapping)

    async def serve(self, stop: asyncio.Event | None = None, ready: Callable[[tuple[str, int]], None] | None = None) -> None:
        """Listen until ``stop`` is set (or the task is cancelled); then close every connection."""
        await self.listener.start()
        for note in self.mapping.notes:
            log.warning("%s", note)
        if ready is not None:
            ready(self.listener.address)
        try:
            await (stop or asyncio.Event()).wait()
        finally:
            await self.listener.close()
            await asyncio.to_thread(self.booter.wait_idle, 30)

    def start_in_thread(self, timeout: float = 10.0) -> tuple[str, int]:
        """Run ``serve`` in a daemon thread with its own loop; returns once listening."""
        if self._thread is not None:
            raise RfconsoleError("on-demand boot is already running")
        started = threading.Event()
        failure: list[BaseException] = []

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            try:
                await self.serve(self._stop, ready=lambda _address: started.set())
            except BaseException as error:
                failure.append(error)
                raise
            finally:
                started.set()

        def run() -> None:
            try:
                asyncio.run(main())
            except BaseException:  # already in ``failure`` for the caller, or a stop
                pass

        self._thread = threading.Thread(target=run, name="rfconsole-ondemand", daemon=True)
        self._thread.start()
        if not started.wait(timeout):
            raise RfconsoleError(f"on-demand boot did not start listening within {timeout:g} s")
        if failure:
            self._thread = None
            error = failure[0]
            raise error if isinstance(error, RfconsoleError) else RfconsoleError(f"on-demand boot failed: {error}")
        return self.address

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the thread started by ``start_in_thread`` (switches go down) and the booter."""
        if self._thread is not None and self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout)
        self._thread = None
        self.booter.close()
