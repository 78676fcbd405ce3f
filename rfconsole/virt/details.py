"""Everything rfconsole can tell about one VM, gathered for its details view: state and why,
resources as defined and live, each NIC (with its Open vSwitch port, the OpenFlow switch port
RouteFlow's CSV maps it to, and the guest addresses libvirt can tell), disks, the file in XML/
and whether libvirt's definition says the same, and the lifecycle events seen.

``gather(host, name, store, routeflow_config)`` is reached through ``Fleet.details(name, host=None)``; what it
returns is plain data (no libvirt handle), rendered by the faces.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rfconsole.errors import RfconsoleError
from rfconsole.model.rftest2 import read_routeflow_csv
from rfconsole.virt.errors import VirtError
from rfconsole.virt.events import DomainEvent, DomainState
from rfconsole.virt.host import ADDRESS_SOURCES, Host
from rfconsole.virt.snapshots import SnapshotInfo, list_snapshots
from rfconsole.virt.stats import DomainCounters

if TYPE_CHECKING:
    from rfconsole.model.domainxml import DomainDocument
    from rfconsole.store import Store

# virDomain*Reason, per state, in words (libvirt's enums, in order)
_REASONS: dict[DomainState, tuple[str, ...]] = {
    DomainState.RUNNING: (
        "unknown", "booted", "migrated", "restored", "from snapshot", "unpaused", "migration canceled",
        "save canceled", "woken up", "crashed", "post-copy",
    ),
    DomainState.BLOCKED: ("unknown",),
    DomainState.PAUSED: (
        "unknown", "paused by the user", "migration", "saving", "core dump", "I/O error", "watchdog",
        "from snapshot", "shutting down", "snapshot", "crashed", "starting up", "post-copy", "post-copy failed",
    ),
    DomainState.SHUTDOWN: ("unknown", "by the user"),
    DomainState.SHUTOFF: (
        "unknown", "shut down", "destroyed", "crashed", "migrated", "saved", "failed to start", "from snapshot", "daemon",
    ),
    DomainState.CRASHED: ("unknown", "panicked"),
    DomainState.PMSUSPENDED: ("unknown",),
}


def reason_words(state: DomainState, reason: int) -> str:
    words = _REASONS.get(state, ())
    return words[reason] if 0 <= reason < len(words) else f"reason {reason}"


@dataclass(frozen=True)
class GuestAddress:
    """One address the guest holds on a NIC, and which of libvirt's sources told it."""

    address: str
    prefix: int | None
    sources: tuple[str, ...]  # of ADDRESS_SOURCES: lease, arp, agent

    def __str__(self) -> str:  # "192.168.10.101/24 (lease)"
        prefix = "" if self.prefix is None else f"/{self.prefix}"
        return f"{self.address}{prefix} ({', '.join(self.sources)})"

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address, "prefix": self.prefix, "sources": list(self.sources)}


@dataclass(frozen=True)
class NicDetails:
    index: int  # ethN in the guest, counting the NICs in the XML's order
    mac: str | None
    kind: str | None  # bridge, network, user, direct …
    source: str | None  # the bridge, network or host device it is plugged into
    target_dev: str | None  # the host-side device (libvirt names it when the XML does not)
    virtualport: str | None
    model: str | None
    ovs_port: str | None  # "rfvmA.1 on dp0" for an Open vSwitch port
    switch: int | None = None  # the OpenFlow datapath id RouteFlow's CSV maps this NIC to
    switch_port: int | None = None
    addresses: tuple[GuestAddress, ...] = ()

    @property
    def name(self) -> str:
        return f"eth{self.index}"

    @property
    def plugged_into(self) -> str:  # "bridge dp0", "network default"
        return f"{self.kind or '?'} {self.source or ''}".strip()

    @property
    def switch_words(self) -> str | None:  # "0000000000000005:1": datapath id (hex, as RouteFlow's CSV) and port
        return None if self.switch is None else f"{self.switch:016x}:{self.switch_port}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "index": self.index, "mac": self.mac, "type": self.kind, "source": self.source,
            "host_device": self.target_dev, "virtualport": self.virtualport, "model": self.model, "ovs_port": self.ovs_port,
            "switch": None if self.switch is None else f"{self.switch:016x}", "switch_port": self.switch_port,
            "addresses": [address.to_json() for address in self.addresses],
        }


@dataclass(frozen=True)
class DiskDetails:
    target: str | None
    device: str | None
    source: str | None
    bus: str | None

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "device": self.device, "source": self.source, "bus": self.bus}


@dataclass(frozen=True)
class VmDetails:
    name: str
    host: str
    uri: str
    hypervisor: str | None
    state: DomainState
    reason: str
    persistent: bool
    vcpus_defined: int | None
    vcpus_live: int | None  # None while shut off
    memory_defined_mib: int | None
    memory_live_mib: int | None
    cpu_percent: float
    nics: tuple[NicDetails, ...]
    disks: tuple[DiskDetails, ...]
    xml_file: Path | None
    xml_agrees: bool | None  # None: no file, or it cannot be read
    xml_note: str  # what differs, or why there is nothing to compare
    addresses_note: str  # which of libvirt's address sources answered
    switch_note: str  # where the switch ports come from, or why there are none
    events: tuple[DomainEvent, ...] = field(default_factory=tuple)
    snapshots: tuple[SnapshotInfo, ...] = ()  # oldest first (virt/snapshots.py)
    snapshots_note: str = ""  # why there are none to show, when libvirt cannot list them (LXC)
    counters: DomainCounters | None = None  # disk and network bytes so far (virt/stats.py); None: the driver has none (LXC)

    # The words both faces show, said once here.
    @property
    def state_words(self) -> str:  # "running (booted)", "shut off (destroyed), transient"; libvirt's "unknown" reason is left out
        reason = "" if self.reason == _REASONS[DomainState.SHUTOFF][0] else f" ({self.reason})"
        return f"{self.state}{reason}" + ("" if self.persistent else ", transient")

    @property
    def vcpus_words(self) -> str:  # "2 defined, 1 live"
        defined = "?" if self.vcpus_defined is None else str(self.vcpus_defined)
        live = "—" if self.vcpus_live is None else str(self.vcpus_live)
        return f"{defined} defined, {live} live"

    @property
    def memory_words(self) -> str:  # "512 MiB defined, — live"
        defined = "?" if self.memory_defined_mib is None else f"{self.memory_defined_mib} MiB"
        live = "—" if self.memory_live_mib is None else f"{self.memory_live_mib} MiB"
        return f"{defined} defined, {live} live"

    @property
    def xml_words(self) -> str:  # "agrees", "differs", or nothing to compare
        return {True: "agrees", False: "differs", None: "not compared"}[self.xml_agrees]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "host": self.host, "uri": self.uri, "hypervisor": self.hypervisor,
            "state": self.state.value, "reason": self.reason, "persistent": self.persistent,
            "vcpus": {"defined": self.vcpus_defined, "live": self.vcpus_live},
            "memory_mib": {"defined": self.memory_defined_mib, "live": self.memory_live_mib},
            "nics": [nic.to_json() for nic in self.nics],
            "switch_note": self.switch_note, "addresses_note": self.addresses_note,
            "disks": [disk.to_json() for disk in self.disks],
            "xml": {"file": None if self.xml_file is None else str(self.xml_file), "agrees": self.xml_agrees, "note": self.xml_note},
            "snapshots": [info.to_json() for info in self.snapshots], "snapshots_note": self.snapshots_note,
            "events": [event_json(event) for event in self.events],
            "counters": None if self.counters is None else {
                "disk_read_bytes": self.counters.disk_read_bytes, "disk_write_bytes": self.counters.disk_write_bytes,
                "nics": [{"device": nic.device, "rx_bytes": nic.rx_bytes, "tx_bytes": nic.tx_bytes} for nic in self.counters.nics],
            },
        }


def event_words(event: DomainEvent) -> str:  # "started (booted)"
    return f"{event.kind} ({event.detail})"


def event_json(event: DomainEvent) -> dict[str, Any]:
    when = datetime.fromtimestamp(event.time, UTC).isoformat(timespec="seconds")
    return {"time": when, "kind": str(event.kind.value), "detail": event.detail}


def gather(host: Host, name: str, store: Store | None, routeflow_config: Path | None) -> VmDetails:
    """``store``: the working folder (its file of the VM is compared); ``routeflow_config``:
    RouteFlow's CSV (the switch ports of each NIC)."""
    state, reason = host.state_and_reason(name)
    live = host.document(name)
    persistent = host.is_persistent(name)
    defined = host.document(name, inactive=True) if persistent else live
    live_values, defined_values = live.values(), defined.values()
    status = host.status(name)
    read_nics = _nics(live_values["interfaces"])
    addresses, addresses_note = _addresses(host, name, state)
    ports, switch_note = _switch_ports(routeflow_config, read_nics)
    nics = tuple(
        _with(nic, ports.get(nic.index), addresses.get((nic.mac or "").lower(), ())) for nic in read_nics
    )
    xml_file, agrees, xml_note = _file_against_definition(store, name, defined)
    return VmDetails(
        name=name,
        host=host.name,
        uri=host.uri,
        hypervisor=live_values.get("hypervisor"),
        state=state,
        reason=reason_words(state, reason),
        persistent=persistent,
        vcpus_defined=_whole(defined_values.get("vcpu")),
        vcpus_live=status.vcpus if status is not None and state.is_active else None,
        memory_defined_mib=_whole(defined_values.get("memory")),
        memory_live_mib=status.memory_mib if status is not None and state.is_active else None,
        cpu_percent=status.cpu_percent if status is not None else 0.0,
        nics=nics,
        disks=_disks(live_values),
        xml_file=xml_file,
        xml_agrees=agrees,
        xml_note=xml_note,
        addresses_note=addresses_note,
        switch_note=switch_note,
        events=tuple(host.events_of(name)),
        counters=host.domain_counters_of(name),
        **_snapshots(host, name),
    )


def _snapshots(host: Host, name: str) -> dict[str, Any]:
    try:
        return {"snapshots": tuple(list_snapshots(host, name))}
    except VirtError as error:  # LXC has no snapshots: said, not raised
        return {"snapshots_note": error.libvirt_message or error.message}


def _whole(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _nics(interfaces: tuple[dict[str, Any], ...]) -> list[NicDetails]:
    nics = []
    for index, values in enumerate(interfaces):
        source = values.get("bridge") or values.get("network") or values.get("source_dev")
        target = values.get("target_dev")
        ovs = f"{target} on {values.get('bridge')}" if values.get("virtualport") == "openvswitch" and target else None
        nics.append(
            NicDetails(
                index=index, mac=values.get("mac"), kind=values.get("type"), source=source, target_dev=target,
                virtualport=values.get("virtualport"), model=values.get("model"), ovs_port=ovs,
            )
        )
    return nics


def _with(nic: NicDetails, port: tuple[int, int] | None, addresses: tuple[GuestAddress, ...]) -> NicDetails:
    return replace(nic, switch=port[0] if port else None, switch_port=port[1] if port else None, addresses=addresses)


def _addresses(host: Host, name: str, state: DomainState) -> tuple[dict[str, tuple[GuestAddress, ...]], str]:
    """Guest addresses by MAC from whichever of libvirt's sources answer (DHCP lease of a libvirt
    network, the host's ARP table, the guest agent), and a note of who answered."""
    if not state.is_active:
        return {}, "the VM is not running"
    found: dict[str, dict[tuple[str, int | None], list[str]]] = {}  # MAC -> (address, prefix) -> the sources that told it
    answered, silent = [], []
    for word in ADDRESS_SOURCES:
        try:
            interfaces = host.interface_addresses(name, word)
        except VirtError as error:
            silent.append(f"{word}: {error.libvirt_message or error.message}")
            continue
        answered.append(word)
        for values in interfaces.values():
            mac = (values.get("hwaddr") or "").lower()
            for address in values.get("addrs") or ():
                key = (str(address.get("addr")), _whole(address.get("prefix")))
                found.setdefault(mac, {}).setdefault(key, []).append(word)
    note = f"asked libvirt's {', '.join(answered) or 'no'} source{'s' if len(answered) != 1 else ''}"
    if silent:
        note += "; no answer from " + "; ".join(silent)
    return {
        mac: tuple(GuestAddress(address, prefix, tuple(sources)) for (address, prefix), sources in addresses.items())
        for mac, addresses in found.items()
    }, note


def _switch_ports(path: Path | None, nics: list[NicDetails]) -> tuple[dict[int, tuple[int, int]], str]:
    """NIC index -> (datapath id, switch port) from RouteFlow's CSV: its rows name the VM by its
    eth0 MAC (vm_id) and the VM's port by number (vm_port N is ethN)."""
    if path is None:
        return {}, "no RouteFlow CSV configured (routeflow_config in rfconsole.toml's [ondemand])"
    if not nics or not nics[0].mac:
        return {}, "the VM has no eth0 MAC to find it by in RouteFlow's CSV"
    try:
        routeflow = read_routeflow_csv(path, strict=False)
    except RfconsoleError as error:
        return {}, f"RouteFlow's CSV {path} cannot be read: {error}"
    ports = routeflow.ports_of(nics[0].mac)
    if not ports:
        return {}, f"RouteFlow's CSV {path} has no row for this VM (vm_id of eth0 {nics[0].mac})"
    return ports, f"from RouteFlow's CSV {path} (vm_port N is ethN)"


def _disks(values: dict[str, Any]) -> tuple[DiskDetails, ...]:
    disks = []
    if values.get("image"):
        kind = getattr(values.get("image_kind"), "value", values.get("image_kind"))
        disks.append(DiskDetails(target="/" if kind == "folder" else None, device=f"root ({kind or 'image'})", source=str(values["image"]), bus=None))
    for disk in values.get("disks") or ():
        disks.append(DiskDetails(target=disk.get("target_dev"), device=disk.get("device"), source=disk.get("source"), bus=disk.get("bus")))
    return tuple(disks)


def _file_against_definition(store: Store | None, name: str, defined: DomainDocument) -> tuple[Path | None, bool | None, str]:
    """The VM's file in XML/ and whether libvirt's (persistent) definition says the same in every
    field rfconsole models; the full text diff is the XML view's (x)."""
    path = store.find(name) if store is not None else None
    if store is None or path is None:
        return None, None, "no file in XML/ defines this VM"
    try:
        document = store.load(path)
    except RfconsoleError as error:
        return path, None, f"the file cannot be read: {error}"
    mine, theirs = document.values(), defined.values()
    differing = sorted(key for key in mine if not _agrees(mine[key], theirs.get(key)))
    if not differing:
        return path, True, "libvirt's definition says the same (every field rfconsole models that the file sets)"
    return path, False, "libvirt's definition differs in: " + ", ".join(differing) + " (x shows the diff)"


def _agrees(mine: Any, theirs: Any) -> bool:
    """The file's value and libvirt's agree; what the file leaves unset is libvirt's to choose
    (it fills in defaults: a NIC's model, a vCPU placement …)."""
    if mine is None:
        return True
    if isinstance(mine, dict) and isinstance(theirs, dict):
        return all(_agrees(value, theirs.get(key)) for key, value in mine.items())
    if isinstance(mine, (tuple, list)) and isinstance(theirs, (tuple, list)):
        return len(mine) == len(theirs) and all(_agrees(a, b) for a, b in zip(mine, theirs))
    return mine == theirs
