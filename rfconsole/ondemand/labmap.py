"""The lab map (issue 21): rftest2's topology as plain data, for `rfconsole map` and the console's
map screen.

Built from four sources, each read by what owns it:

- which switch serves which VMs: RouteFlow's CSV and rfconsole.toml's [ondemand.map]
  (``build_datapath_map``), each NIC's switch port from the CSV's rows (vm_port N is ethN);
- each VM's NICs, bridges and host-side port names: its file in XML/;
- each VM's state and host, and each NIC's counters: libvirt (``Fleet.lab_statuses``, and
  ``Fleet.domain_counters``: one getAllDomainStats call per host, its interface group);
- whether a switch is connected, since when and through which controller connection, and each
  VM's last on-demand boot: the working folder's timeline (events.jsonl). The OpenFlow listener
  runs in another process (``rfconsole watch``, or a console), which records each switch up and
  down there; ``TimelineFacts`` reads them back. A switch held by a process that said "stopped
  watching", or that no longer exists, is not connected.

Why libvirt's counters and not Open vSwitch's: libvirt's are read over the connection rfconsole
already holds to each host (remote ones too, with no shell there), in the one bulk call per host
`top` makes, for every kind of port (a Linux bridge such as the management bridge as well as an
OVS port); ovs-vsctl would answer only for this machine's switch and only for OVS ports. They are
the guest's side of the port (libvirt's convention: tx is what the guest sent, which the switch
port received).

    reader = LabMapReader(fleet, store, routeflow_csv, explicit, Timeline(root))
    lab = reader.read()                # LabMap: switches, VMs with NICs, bridges, problems
    reader.follow(on_change, stop)     # the timeline followed on a thread: on_change() at each entry
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rfconsole.errors import RfconsoleError
from rfconsole.images import human_size
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import (
    RouteflowMap,
    RouteflowRow,
    format_datapath_id,
    rftest2_naming,
    routeflow_rows,
)
from rfconsole.ondemand.mapping import DatapathMap, build_datapath_map
from rfconsole.store import Store
from rfconsole.virt.events import DomainState, DomainStatus
from rfconsole.virt.fleet import Fleet
from rfconsole.virt.stats import DomainCounters, NicCounters
from rfconsole.virt.timeline import Timeline, TimelineEntry, TimelineNote

COUNTERS_SOURCE = (
    "libvirt's interface statistics of each running domain (one getAllDomainStats call per host), "
    "the guest's side: tx is what the guest sent, rx what it received"
)


# ---------------------------------------------------------------------- what the timeline says
@dataclass(frozen=True)
class Connection:
    """One connection of a switch to an rfconsole listener, as its process recorded it."""

    switch_address: str | None  # the switch's end: "127.0.0.1:40000"
    controller: str | None  # the listener it reached: "127.0.0.1:6653" (None: its start was not recorded)
    pid: int  # the rfconsole process (watch, console) that holds it
    since: float  # time.time()
    version: str | None = None  # the OpenFlow version negotiated on it: "OpenFlow 1.3" (None: not recorded)

    def to_json(self) -> dict[str, Any]:
        return {"switch": self.switch_address, "controller": self.controller, "pid": self.pid, "since": round(self.since, 3),
                "version": self.version}

    @property
    def words(self) -> str:
        version = f", {self.version}" if self.version else ""
        return f"{self.switch_address or '?'} → {self.controller or 'rfconsole'} (pid {self.pid}{version})"


@dataclass(frozen=True)
class SwitchFacts:
    """A switch as the timeline tells it. ``since``: connected since (the oldest open connection),
    or not connected since; None when the timeline never saw it."""

    connected: bool
    since: float | None
    connections: tuple[Connection, ...] = ()
    last: str | None = None  # the last words recorded about it

    def words(self, now: float | None = None) -> str:
        """"connected since 18:40:02 (12 s) through 127.0.0.1:40000 → 127.0.0.1:6653 (pid 812)", "not connected …"."""
        now = time.time() if now is None else now
        if self.connected:
            return f"connected since {_clock(self.since, now)} through " + ", ".join(c.words for c in self.connections)
        if self.since is None and self.last is None:
            return "not connected (never seen by rfconsole)"
        words = "not connected" + (f" since {_clock(self.since, now)}" if self.since is not None else "")
        return words + (f": {self.last}" if self.last else "")


@dataclass(frozen=True)
class BootFacts:
    """A VM's last on-demand boot decision."""

    time: float
    datapath_id: int | None
    outcome: str | None
    latency_s: float | None  # from the switch up to the VM running
    what: str

    def words(self, now: float | None = None) -> str:
        """"on demand at 18:40:03: defined and started, running 1.234 s after switch 0000000000000005 came up"."""
        now = time.time() if now is None else now
        words = f"on-demand boot at {_clock(self.time, now)}: {self.outcome or self.what}"
        if self.latency_s is not None and self.datapath_id is not None:
            words += f", running {self.latency_s:.3f} s after switch {format_datapath_id(self.datapath_id)} came up"
        return words

    def to_json(self) -> dict[str, Any]:
        return {
            "time": round(self.time, 3), "switch": None if self.datapath_id is None else format_datapath_id(self.datapath_id),
            "outcome": self.outcome, "latency_s": self.latency_s, "what": self.what,
        }


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (0: not known, taken as alive)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's: it exists
    return True


class TimelineFacts:
    """Switch ups and downs, listeners started and stopped, and boots, fed entry by entry, oldest
    first (``add``); ``switches()`` tells each switch's state now. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[tuple[int, int], list[Connection]] = {}  # (pid, datapath id) -> its open connections
        self._down: dict[int, tuple[float, str]] = {}  # datapath id -> when it went down, why
        self._last: dict[int, str] = {}
        self._controllers: dict[int, str] = {}  # pid -> where it listens
        self.boots: dict[str, BootFacts] = {}
        self.notes: list[str] = []  # lines of the timeline that were skipped, in words
        self.entries = 0

    def add(self, item: TimelineEntry | TimelineNote) -> None:
        with self._lock:
            if isinstance(item, TimelineNote):
                self.notes.append(f"{item}")
                del self.notes[:-20]  # the latest are enough to say the file has such lines
                return
            self.entries += 1
            if item.kind == "switch":
                self._switch(item)
            elif item.kind == "watch":
                self._watch(item)
            elif item.kind == "boot":
                self._boot(item)

    def _switch(self, entry: TimelineEntry) -> None:
        datapath_id = _datapath_id(entry.data.get("datapath_id"), entry.subject)
        if datapath_id is None:
            return
        self._last[datapath_id] = entry.what
        event = entry.data.get("event") or ("up" if entry.what.startswith("up") else "down" if entry.what.startswith("down") else None)
        if event == "up":
            address, version = entry.data.get("address"), entry.data.get("version")
            self._open.setdefault((entry.pid, datapath_id), []).append(
                Connection(address if isinstance(address, str) else None, self._controllers.get(entry.pid), entry.pid, entry.time,
                           version if isinstance(version, str) else None)
            )
        elif event == "down":  # the listener says down once its last connection of the switch closed
            self._open.pop((entry.pid, datapath_id), None)
            self._down[datapath_id] = (entry.time, entry.what)

    def _watch(self, entry: TimelineEntry) -> None:
        if entry.what.startswith("watching"):
            self._controllers[entry.pid] = entry.subject
        elif entry.what.startswith("stopped"):  # its switches are no longer connected to it
            for key in [key for key in self._open if key[0] == entry.pid]:
                del self._open[key]
                self._down[key[1]] = (entry.time, f"down: {entry.what} (pid {entry.pid})")
                self._last[key[1]] = self._down[key[1]][1]

    def _boot(self, entry: TimelineEntry) -> None:
        latency = entry.data.get("latency_s")
        outcome = entry.data.get("outcome")
        self.boots[entry.subject] = BootFacts(
            entry.time, _datapath_id(entry.data.get("datapath_id"), None),
            outcome if isinstance(outcome, str) else None,
            float(latency) if isinstance(latency, int | float) and not isinstance(latency, bool) else None, entry.what,
        )

    def switches(self, alive: Callable[[int], bool] = process_alive) -> dict[int, SwitchFacts]:
        """Each switch the timeline saw: connected while a live process holds a connection of it."""
        with self._lock:
            seen = {key[1] for key in self._open} | set(self._down) | set(self._last)
            facts = {}
            for datapath_id in seen:
                held = [connection for (pid, dpid), connections in self._open.items() if dpid == datapath_id
                        for connection in connections]
                live = tuple(sorted((c for c in held if alive(c.pid)), key=lambda c: c.since))
                down = self._down.get(datapath_id)
                last = self._last.get(datapath_id)
                if live:
                    facts[datapath_id] = SwitchFacts(True, live[0].since, live, last)
                elif held:  # its process ended without saying so (killed)
                    gone = ", ".join(sorted({str(c.pid) for c in held}))
                    facts[datapath_id] = SwitchFacts(False, None, (), f"the process that held it (pid {gone}) is gone")
                else:
                    facts[datapath_id] = SwitchFacts(False, down[0] if down else None, (), last)
            return facts

    def boots_now(self) -> dict[str, BootFacts]:
        with self._lock:
            return dict(self.boots)

    def skipped(self) -> list[str]:
        with self._lock:
            return list(self.notes)


def _clock(when: float | None, now: float) -> str:
    """18:40:02 (12 s ago), or with the date when it was not today."""
    if when is None:
        return "?"
    local = time.localtime(when)
    shown = time.strftime("%H:%M:%S" if local[:3] == time.localtime(now)[:3] else "%Y-%m-%d %H:%M:%S", local)
    ago = max(0.0, now - when)
    span = f"{ago:.0f} s" if ago < 120 else f"{ago / 60:.0f} min" if ago < 7200 else f"{ago / 3600:.0f} h"
    return f"{shown} ({span} ago)"


def _entry_key(entry: TimelineEntry) -> tuple[object, ...]:
    return (entry.time, entry.pid, entry.kind, entry.subject, entry.what)


def _datapath_id(value: object, subject: str | None) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**64:
        return value
    if subject is not None:
        try:
            return int(subject, 16) if len(subject) == 16 else None
        except ValueError:
            return None
    return None


# ---------------------------------------------------------------------- the map
@dataclass(frozen=True)
class MapNic:
    """One NIC of a VM and the port it is plugged into."""

    name: str  # eth0, eth1 …
    mac: str | None
    bridge: str | None  # the bridge (or libvirt network, or host device) it is plugged into
    openvswitch: bool
    port: str | None  # the host-side device: the bridge's port (rfvmA.1, vnet3)
    port_from: str  # "XML/" or "definition" (its target dev there), "libvirt" (the running domain's), or "" (not known: not running)
    switch: int | None = None  # the OpenFlow switch and port RouteFlow's CSV maps it to
    switch_port: int | None = None
    counters: NicCounters | None = None

    @property
    def management(self) -> bool:
        return self.name == "eth0"  # rftest2's eth0 (RouteFlow's vm_id) is the management NIC

    @property
    def port_words(self) -> str:  # "dp0 port rfvmA.1 (Open vSwitch)", "lxcbr0 port vnet3"
        where = self.bridge or "nothing"
        words = f"{where} port {self.port}" if self.port else f"{where} (port named when it runs)"
        return words + (" (Open vSwitch)" if self.openvswitch else "")

    @property
    def switch_words(self) -> str | None:  # "switch 0000000000000005 port 1"
        return None if self.switch is None else f"switch {format_datapath_id(self.switch)} port {self.switch_port}"

    @property
    def counter_words(self) -> str:  # "rx 1.2 KiB 10 pkts, tx 3.4 KiB 20 pkts"
        counters = self.counters
        if counters is None:
            return "no counters"
        return (f"rx {human_size(counters.rx_bytes)} {counters.rx_packets} pkts, "
                f"tx {human_size(counters.tx_bytes)} {counters.tx_packets} pkts")

    def to_json(self) -> dict[str, Any]:
        counters = self.counters
        return {
            "name": self.name, "mac": self.mac, "bridge": self.bridge, "openvswitch": self.openvswitch, "port": self.port,
            "port_from": self.port_from or None, "management": self.management,
            "switch": None if self.switch is None else format_datapath_id(self.switch), "switch_port": self.switch_port,
            "counters": None if counters is None else {
                "rx_bytes": counters.rx_bytes, "tx_bytes": counters.tx_bytes,
                "rx_packets": counters.rx_packets, "tx_packets": counters.tx_packets,
            },
        }


IN_XML = "XML/"  # where a VM's NICs were read: its file in XML/ …
IN_DEFINITION = "definition"  # … its host's definition (no file in XML/) …
NOWHERE = ""  # … or nowhere: a VM [ondemand.map] names that neither XML/ nor a host has


@dataclass(frozen=True)
class MapVM:
    name: str
    host: str | None
    state: DomainState
    switches: tuple[int, ...]  # the switches it serves
    nics: tuple[MapNic, ...]
    boot: BootFacts | None = None
    read_from: str = IN_XML  # IN_XML, IN_DEFINITION or NOWHERE

    @property
    def state_words(self) -> str:  # "running on default", "undefined (only in XML/)"
        if self.read_from == NOWHERE:
            return "unknown: in no file of XML/ and on no host"
        if self.state is DomainState.UNDEFINED:
            return "undefined (only in XML/)"
        return f"{self.state.value} on {self.host}" if self.host else self.state.value

    @property
    def no_nic_words(self) -> str:
        return {IN_XML: "no NIC in its XML/ file", IN_DEFINITION: "no NIC in its host's definition"}.get(self.read_from, "no NIC known")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "host": self.host, "state": self.state.value, "read_from": self.read_from or None,
            "switches": [format_datapath_id(dpid) for dpid in self.switches],
            "boot": None if self.boot is None else self.boot.to_json(), "nics": [nic.to_json() for nic in self.nics],
        }


@dataclass(frozen=True)
class MapSwitch:
    datapath_id: int
    vms: tuple[str, ...]  # the VMs that must run for it
    facts: SwitchFacts

    @property
    def dpid(self) -> str:
        return format_datapath_id(self.datapath_id)

    def to_json(self) -> dict[str, Any]:
        facts = self.facts
        return {
            "datapath_id": self.dpid, "connected": facts.connected, "since": None if facts.since is None else round(facts.since, 3),
            "connections": [connection.to_json() for connection in facts.connections], "vms": list(self.vms), "last": facts.last,
        }


@dataclass(frozen=True)
class BridgePort:
    vm: str
    nic: str
    port: str | None

    def to_json(self) -> dict[str, Any]:
        return {"vm": self.vm, "nic": self.nic, "port": self.port}


@dataclass(frozen=True)
class MapBridge:
    name: str
    openvswitch: bool
    management: bool  # some VM's eth0 is on it
    data: bool  # some VM's data NIC (eth1 …) is on it
    ports: tuple[BridgePort, ...]

    @property
    def role(self) -> str:
        return " and ".join(word for word, yes in (("management", self.management), ("data", self.data)) if yes)

    @property
    def kind_words(self) -> str:
        return "Open vSwitch" if self.openvswitch else "bridge"

    @property
    def ports_words(self) -> str:  # "rfvmA eth1 (rfvmA.1), rfvmB eth1 (rfvmB.1)"
        return ", ".join(f"{port.vm} {port.nic}" + (f" ({port.port})" if port.port else "") for port in self.ports)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "openvswitch": self.openvswitch, "management": self.management, "data": self.data,
                "ports": [port.to_json() for port in self.ports]}


EMPTY_MAP_WORDS = "no switch and no VM: RouteFlow's CSV maps nothing, XML/ is empty and no host defines a VM"


@dataclass(frozen=True)
class LabMap:
    switches: tuple[MapSwitch, ...]
    vms: tuple[MapVM, ...]
    bridges: tuple[MapBridge, ...]
    problems: tuple[str, ...] = ()
    sources: dict[str, str | None] = field(default_factory=dict)
    time: float = field(default_factory=time.time)
    csv_unusable: bool = False  # RouteFlow's CSV was named but nothing of it could be used (`map` exits 1)

    def vm(self, name: str) -> MapVM | None:
        return next((vm for vm in self.vms if vm.name == name), None)

    def switch(self, datapath_id: int) -> MapSwitch | None:
        return next((switch for switch in self.switches if switch.datapath_id == datapath_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "time": round(self.time, 3), "switches": [switch.to_json() for switch in self.switches],
            "vms": [vm.to_json() for vm in self.vms], "bridges": [bridge.to_json() for bridge in self.bridges],
            "problems": list(self.problems), "sources": dict(self.sources),
        }


def build_lab_map(
    datapaths: DatapathMap,
    settings: Mapping[str, Mapping[str, Any]],
    statuses: Iterable[DomainStatus],
    counters: Iterable[DomainCounters],
    switches: Mapping[int, SwitchFacts],
    boots: Mapping[str, BootFacts],
    problems: Sequence[str] = (),
    sources: Mapping[str, str | None] | None = None,
    defined: Mapping[str, Mapping[str, Any]] | None = None,
    csv_unusable: bool = False,
) -> LabMap:
    """The map from what was read (pure: no file, no libvirt). ``settings``: XML/'s VMs by name
    (``Store.settings()``); ``defined``: the settings of VMs only a host's definition has;
    ``statuses`` and ``counters``: libvirt's; ``switches`` and ``boots``: the timeline's
    (``TimelineFacts``). Every switch of the CSV is shown, also one whose VMs no one has."""
    defined = defined or {}
    state_of: dict[str, DomainStatus] = {}
    for each in statuses:
        if each.name not in state_of or each.state.is_active and not state_of[each.name].state.is_active:
            state_of[each.name] = each
    counters_of = {(item.host, item.name): item for item in counters}
    routeflow: RouteflowMap | None = datapaths.routeflow
    in_csv = set(routeflow.datapaths) if routeflow is not None else set()
    switch_ids = sorted(set(datapaths.vms) | in_csv | set(switches))
    serving: dict[str, list[int]] = {}
    for datapath_id in switch_ids:
        for name in datapaths.for_datapath(datapath_id):
            serving.setdefault(name, []).append(datapath_id)
    names = list(dict.fromkeys([name for datapath_id in switch_ids for name in datapaths.for_datapath(datapath_id)]
                               + sorted(settings) + sorted(defined)))
    vms = []
    for name in names:
        status = state_of.get(name)
        read_from = IN_XML if name in settings else IN_DEFINITION if name in defined else NOWHERE
        values = settings.get(name) or defined.get(name)
        live = counters_of.get((status.host, name)) if status is not None else None
        nics = _nics(values, live, routeflow, read_from) if values is not None else ()
        vms.append(MapVM(
            name, status.host if status is not None else None, status.state if status is not None else DomainState.UNDEFINED,
            tuple(serving.get(name, ())), nics, boots.get(name), read_from,
        ))
    map_switches = tuple(
        MapSwitch(datapath_id, datapaths.for_datapath(datapath_id), switches.get(datapath_id, SwitchFacts(False, None)))
        for datapath_id in switch_ids
    )
    return LabMap(map_switches, tuple(vms), _bridges(vms), tuple(problems), dict(sources or {}), csv_unusable=csv_unusable)


def _nics(values: Mapping[str, Any], live: DomainCounters | None, routeflow: RouteflowMap | None, read_from: str) -> tuple[MapNic, ...]:
    interfaces = list(values.get("interfaces") or ())
    ports = routeflow.ports_of(interfaces[0]["mac"]) if routeflow is not None and interfaces and interfaces[0].get("mac") else {}
    live_nics = live.nics if live is not None and live.state.is_active else ()
    by_device = {nic.device: nic for nic in live_nics}
    nics = []
    for index, interface in enumerate(interfaces):
        target = interface.get("target_dev")
        counters = by_device.get(target) if target else None
        port_from = read_from if target else ""
        if counters is None and not target and index < len(live_nics):
            counters = live_nics[index]  # libvirt named it (vnetN); the domain's NICs are in its definition's order
            target, port_from = counters.device, "libvirt"
        switch = ports.get(index)
        nics.append(MapNic(
            f"eth{index}", interface.get("mac"), interface.get("bridge") or interface.get("network") or interface.get("source_dev"),
            interface.get("virtualport") == "openvswitch", target, port_from,
            switch[0] if switch else None, switch[1] if switch else None, counters,
        ))
    return tuple(nics)


def _bridges(vms: Iterable[MapVM]) -> tuple[MapBridge, ...]:
    found: dict[str, MapBridge] = {}
    for vm in vms:
        for nic in vm.nics:
            if nic.bridge is None:
                continue
            bridge = found.get(nic.bridge, MapBridge(nic.bridge, False, False, False, ()))
            found[nic.bridge] = replace(
                bridge, openvswitch=bridge.openvswitch or nic.openvswitch, management=bridge.management or nic.management,
                data=bridge.data or not nic.management, ports=(*bridge.ports, BridgePort(vm.name, nic.name, nic.port)),
            )
    # the management bridge first, then the others by name
    return tuple(sorted(found.values(), key=lambda bridge: (not bridge.management, bridge.name)))


def rftest2_naming_map(settings: Mapping[str, Mapping[str, Any]]) -> DatapathMap:
    """Which switch each VM of rftest2's naming serves, with the rows rftest2's own CSV would have
    for it (``routeflow_rows``: data NIC NAME.k on port k of switch 5 for rfvmA …); for the demo,
    which has no CSV."""
    from rfconsole.model.spec import DomainSpec  # the demo's map only

    rows: list[RouteflowRow] = []
    vms: dict[int, tuple[str, ...]] = {}
    for name, values in settings.items():
        naming = rftest2_naming(name)
        if naming is None:
            continue
        try:
            rows += routeflow_rows(DomainSpec.read(dict(values)))
        except RfconsoleError:  # no data NICs, no eth0 MAC …: on no switch
            continue
        vms[naming.datapath_id] = (*vms.get(naming.datapath_id, ()), name)
    return DatapathMap(vms=dict(sorted(vms.items())), routeflow=RouteflowMap(rows))


# ---------------------------------------------------------------------- reading it all
class LabMapReader:
    """Reads the map's sources: libvirt through ``fleet``, XML/ through ``store``, RouteFlow's CSV
    (read again only when it or XML/ changed), and the timeline: once per ``read()``, or followed
    on a thread (``follow``) so a switch's entry is known as soon as it is written."""

    def __init__(self, fleet: Fleet, store: Store | None, routeflow_csv: str | os.PathLike[str] | None,
                 explicit: Mapping[int, Sequence[str]] | None, timeline: Timeline | None, own_listener: str | None = None) -> None:
        """``own_listener``: where this process's own OpenFlow listener listens (the console's), which
        its timeline entries do not say."""
        self.fleet = fleet
        self.own_listener = own_listener
        self.store = store
        self.routeflow_csv = Path(routeflow_csv) if routeflow_csv is not None else None
        self.explicit = explicit
        self.timeline = timeline
        self._mapping: tuple[tuple[object, ...], tuple[DatapathMap, list[str], dict[str, dict[str, Any]], bool]] | None = None
        self._following: TimelineFacts | None = None
        self._definitions: dict[tuple[str, str, DomainState], dict[str, Any]] = {}  # (host, VM, state) -> its definition's settings

    def follow(self, on_change: Callable[[], None], stop: Callable[[], bool]) -> threading.Thread | None:
        """Follow the timeline on a daemon thread until ``stop()``: ``read()`` uses what it has seen
        since, and ``on_change()`` is called (on that thread) after each new entry or note."""
        if self.timeline is None:
            return None
        timeline = self.timeline
        # what is there now is read before returning, so the first read() already knows every
        # switch; the follower gives those entries again first, and they are not counted twice
        entries, notes = timeline.read()
        facts = TimelineFacts()
        for note in notes:
            facts.add(note)
        for entry in entries:
            facts.add(entry)
        known = {_entry_key(entry) for entry in entries}
        told = {str(note) for note in notes}

        def run() -> None:
            for item in timeline.follow(stop=stop, poll=0.05):
                if isinstance(item, TimelineEntry) and _entry_key(item) in known:
                    known.discard(_entry_key(item))
                    continue
                if isinstance(item, TimelineNote) and str(item) in told:
                    told.discard(str(item))
                    continue
                facts.add(item)
                on_change()

        self._following = facts
        thread = threading.Thread(target=run, name="rfconsole-map-timeline", daemon=True)
        thread.start()
        return thread

    def timeline_facts(self) -> TimelineFacts:
        if self._following is not None:
            return self._following
        facts = TimelineFacts()
        if self.timeline is not None:
            entries, notes = self.timeline.read()
            for note in notes:
                facts.add(note)
            for entry in entries:
                facts.add(entry)
        return facts

    def datapaths(self) -> tuple[DatapathMap, list[str], dict[str, dict[str, Any]], bool]:
        """Which switch serves which VMs, the problems of reading it (a missing or garbled CSV, a
        file of XML/ that cannot be read), XML/'s VMs' settings, and whether the CSV was named but
        nothing of it can be used; read again only when the CSV or a file of XML/ changed."""
        stamp = self._stamp()
        if self._mapping is not None and self._mapping[0] == stamp:
            return self._mapping[1]
        problems: list[str] = []
        unusable = False
        try:
            mapping = build_datapath_map(self.store, self.routeflow_csv, self.explicit, strict=False)
            problems += mapping.notes
            routeflow = mapping.routeflow
            if routeflow is not None and not routeflow.rows and routeflow.problems:
                unusable = True
                problems.append(f"RouteFlow's CSV {self.routeflow_csv} has no row rfconsole can use")
        except RfconsoleError as error:  # the CSV cannot be read at all: the explicit map only
            unusable = True
            problems.append(f"RouteFlow's CSV cannot be read: {error.message}")
            mapping = build_datapath_map(self.store, None, self.explicit)
        entries = self.store.entries() if self.store is not None else []
        problems += [f"XML/{entry.path.name} is not on the map: {entry.problem.message}"
                     for entry in entries if entry.problem is not None]
        settings = {entry.name: entry.settings for entry in entries if entry.settings is not None}
        self._mapping = (stamp, (mapping, problems, settings, unusable))
        return mapping, problems, settings, unusable

    def _stamp(self) -> tuple[object, ...]:
        files = [self.routeflow_csv] if self.routeflow_csv is not None else []
        if self.store is not None:
            files += self.store.paths()
        stamps: list[object] = []
        for path in files:
            try:
                status = os.stat(path)
                stamps.append((str(path), status.st_ino, status.st_size, status.st_mtime_ns))
            except (OSError, ValueError):
                stamps.append((str(path), None))
        return tuple(stamps)

    def defined_elsewhere(self, statuses: Iterable[DomainStatus], settings: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """The settings of the VMs a host defines that XML/ does not hold (the demo's, one made by
        virsh), read from the host's definition once per VM and state (a start names its ports)."""
        found: dict[str, dict[str, Any]] = {}
        wanted = set()
        for status in statuses:
            if status.name in settings or status.name in found or status.state in (DomainState.UNDEFINED, DomainState.UNKNOWN):
                continue
            key: tuple[str, str, DomainState] = (status.host, status.name, status.state)
            wanted.add(key)
            if key not in self._definitions:
                try:
                    text = self.fleet.live_xml(status.name, status.host)
                    self._definitions[key] = DomainDocument.parse(text).settings() if text else {}
                except RfconsoleError:
                    self._definitions[key] = {}  # shown as a VM without NICs
            if self._definitions[key]:
                found[status.name] = self._definitions[key]
        for key in set(self._definitions) - wanted:
            del self._definitions[key]
        return found

    def read(self) -> LabMap:
        problems: list[str] = []
        datapaths, mapping_problems, settings, unusable = self.datapaths()
        problems += mapping_problems
        statuses, errors = self.fleet.lab_statuses()
        defined = self.defined_elsewhere(statuses, settings)
        naming = self.routeflow_csv is None and not self.explicit and self.fleet.demo
        if naming:
            datapaths = rftest2_naming_map({**settings, **defined})
        elif self.routeflow_csv is None:
            problems.append("no RouteFlow CSV: give --routeflow-config FILE or routeflow_config in rfconsole.toml's [ondemand]")
        counters, counter_errors = self.fleet.domain_counters()
        problems += [error.message for error in errors]
        unreachable = {error.host for error in errors}
        problems += [f"no counters from host {error.host}: {error.message}" for error in counter_errors if error.host not in unreachable]
        facts = self.timeline_facts()
        problems += facts.skipped()
        sources = {
            "routeflow_csv": str(self.routeflow_csv) if self.routeflow_csv is not None else None,
            "switches_of_vms": "rftest2's naming (the demo has no RouteFlow CSV)" if naming else "RouteFlow's CSV and [ondemand.map]",
            "timeline": str(self.timeline.path) if self.timeline is not None else None,
            "counters": COUNTERS_SOURCE,
        }
        switches = facts.switches()
        if self.own_listener is not None:
            switches = {datapath_id: replace(switch, connections=tuple(
                replace(c, controller=self.own_listener) if c.pid == os.getpid() and c.controller is None else c
                for c in switch.connections)) for datapath_id, switch in switches.items()}
        return build_lab_map(datapaths, settings, statuses, counters, switches, facts.boots_now(), problems, sources, defined, unusable)
