"""Resources of every domain from one bulk call per host per tick (issue 21).

``Host.domain_counters`` asks libvirt once per tick for the groups shown here
(``getAllDomainStats`` with state, cpu, balloon, block and interface, NOWAIT so a busy domain's
monitor never stalls the tick) and turns each record into ``DomainCounters``: cumulative counters
at one moment, no libvirt handle. ``ResourceHistory`` turns two ticks of counters into rates
(``Resources``: CPU %, memory, disk and network bytes per second, per NIC too) and keeps the last
``HISTORY_LENGTH`` of them per domain in memory, for sparklines and `rfconsole top`.

CPU % is of one host CPU, as top(1) counts a process: a guest busy on its one vCPU reads about
100 %, one busy on two vCPUs about 200 %.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from rfconsole.virt.events import DomainState

HISTORY_LENGTH = 300  # ticks kept per domain (five minutes at one tick a second)


@dataclass(frozen=True)
class NicCounters:
    """One NIC's cumulative counters, from the guest's side (libvirt's convention: tx is what the
    guest sent). ``device``: its host-side device, the OVS or bridge port (vnet3, rfvmA.1 …)."""

    device: str
    rx_bytes: int
    tx_bytes: int
    rx_packets: int
    tx_packets: int


@dataclass(frozen=True)
class DomainCounters:
    """One domain's cumulative counters at ``at`` (time.monotonic()). None: not reported (a
    domain that is off reports its state only)."""

    host: str
    name: str
    state: DomainState
    at: float
    cpu_ns: int | None = None
    memory_kib: int | None = None
    max_memory_kib: int | None = None
    disk_read_bytes: int = 0
    disk_write_bytes: int = 0
    nics: tuple[NicCounters, ...] = ()


def _number(record: Mapping[str, Any], key: str) -> int | None:
    value = record.get(key)
    return value if type(value) is int else None


def _total(record: Mapping[str, Any], count: int, suffix: str) -> int:
    return sum(value for index in range(count) if type(value := record.get(f"block.{index}.{suffix}")) is int)


def counters_from_record(host: str, name: str, record: Mapping[str, Any], at: float) -> DomainCounters:
    """``DomainCounters`` from one record of getAllDomainStats (its typed-parameter names, as
    documented for virConnectGetAllDomainStats)."""
    state = _number(record, "state.state")
    disks = _number(record, "block.count") or 0
    nics = []
    for index in range(_number(record, "net.count") or 0):
        prefix = f"net.{index}."
        nics.append(NicCounters(
            device=str(record.get(prefix + "name", f"net{index}")),
            rx_bytes=_number(record, prefix + "rx.bytes") or 0,
            tx_bytes=_number(record, prefix + "tx.bytes") or 0,
            rx_packets=_number(record, prefix + "rx.pkts") or 0,
            tx_packets=_number(record, prefix + "tx.pkts") or 0,
        ))
    return DomainCounters(
        host,
        name,
        DomainState.from_libvirt(state if state is not None else 0),
        at,
        _number(record, "cpu.time"),
        _number(record, "balloon.current"),
        _number(record, "balloon.maximum"),
        _total(record, disks, "rd.bytes") if disks else 0,
        _total(record, disks, "wr.bytes") if disks else 0,
        tuple(nics),
    )


@dataclass(frozen=True)
class NicRates:
    device: str
    rx_bytes_per_s: float
    tx_bytes_per_s: float
    rx_bytes: int
    tx_bytes: int


@dataclass(frozen=True)
class Resources:
    """What one domain cost between two ticks (rates 0 on its first tick)."""

    host: str
    name: str
    state: DomainState
    cpu_percent: float
    memory_mib: int | None
    disk_read_bytes_per_s: float
    disk_write_bytes_per_s: float
    net_rx_bytes_per_s: float
    net_tx_bytes_per_s: float
    nics: tuple[NicRates, ...] = ()
    time: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        for key, value in data.items():
            if isinstance(value, float) and key != "time":
                data[key] = round(value, 1)
        return data


def human_rate(bytes_per_s: float) -> str:
    """A rate in bytes per second, in the unit that keeps it short: "0 B", "12.5 KiB", "3.1 MiB"."""
    for unit in ("B", "KiB", "MiB"):
        if bytes_per_s < 1024:
            return f"{bytes_per_s:.0f} {unit}" if unit == "B" else f"{bytes_per_s:.1f} {unit}"
        bytes_per_s /= 1024
    return f"{bytes_per_s:.1f} GiB"


def _rate(now: int | None, before: int | None, seconds: float) -> float:
    if now is None or before is None or seconds <= 0 or now < before:  # a counter that went back: the domain restarted
        return 0.0
    return (now - before) / seconds


def resources_between(before: DomainCounters | None, now: DomainCounters) -> Resources:
    """The rates from ``before`` to ``now`` (one domain; ``before`` None: its first tick)."""
    if not now.state.is_active:  # no process: nothing it costs (most of a large lab, so kept cheap)
        return Resources(now.host, now.name, now.state, 0.0, None, 0.0, 0.0, 0.0, 0.0)
    seconds = now.at - before.at if before is not None else 0.0
    previous_nics = {nic.device: nic for nic in before.nics} if before is not None else {}
    nics = []
    for nic in now.nics:
        old = previous_nics.get(nic.device)
        nics.append(NicRates(
            device=nic.device,
            rx_bytes_per_s=_rate(nic.rx_bytes, old.rx_bytes if old else None, seconds),
            tx_bytes_per_s=_rate(nic.tx_bytes, old.tx_bytes if old else None, seconds),
            rx_bytes=nic.rx_bytes,
            tx_bytes=nic.tx_bytes,
        ))
    return Resources(
        host=now.host,
        name=now.name,
        state=now.state,
        cpu_percent=100.0 * _rate(now.cpu_ns, before.cpu_ns if before else None, seconds) / 1e9,
        memory_mib=now.memory_kib // 1024 if now.memory_kib is not None else None,
        disk_read_bytes_per_s=_rate(now.disk_read_bytes, before.disk_read_bytes if before else None, seconds),
        disk_write_bytes_per_s=_rate(now.disk_write_bytes, before.disk_write_bytes if before else None, seconds),
        net_rx_bytes_per_s=sum((nic.rx_bytes_per_s for nic in nics), 0.0),
        net_tx_bytes_per_s=sum((nic.tx_bytes_per_s for nic in nics), 0.0),
        nics=tuple(nics),
    )


class ResourceHistory:
    """Rates per domain from successive ticks, and the last ``length`` of them per domain. Not
    thread-safe: one reader (the console's stats worker, `top`'s loop) feeds it."""

    def __init__(self, length: int = HISTORY_LENGTH) -> None:
        self.length = length
        self._last: dict[tuple[str, str], DomainCounters] = {}
        self._history: dict[tuple[str, str], deque[Resources]] = {}

    def update(self, counters: Iterable[DomainCounters]) -> list[Resources]:
        """This tick's resources, one per domain given; a domain no longer given is forgotten."""
        seen = {}
        result = []
        for now in counters:
            key = (now.host, now.name)
            seen[key] = now
            resources = resources_between(self._last.get(key), now)
            kept = self._history.get(key)
            if kept is None:
                kept = self._history[key] = deque(maxlen=self.length)
            kept.append(resources)
            result.append(resources)
        for key in set(self._last) - set(seen):
            self._history.pop(key, None)
        self._last = seen
        return result

    def history(self, name: str, host: str | None = None) -> list[Resources]:
        """``name``'s resources, oldest first (on ``host``, or the first host holding it)."""
        for (on, domain), kept in self._history.items():
            if domain == name and (host is None or on == host):
                return list(kept)
        return []
