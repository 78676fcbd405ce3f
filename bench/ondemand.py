"""On-demand boot's speed, as ratios against baselines measured in the same run, on libvirt's
test driver (a generated node XML of shut-off domains) with simulated switches over real TCP.

- connect -> start issued: a switch mapped to one VM opens its TCP connection; the time until the
  booter issues that VM's start (p50, p99 over many switches), against the time the same handshake
  takes for a switch mapped to nothing (connect -> FEATURES_REPLY sent);
- burst: 100 switches connect at once, each mapped to its own VM: the time until all 100 VMs run,
  against starting the same 100 VMs directly with Fleet.run_many; and how many were started / lost.

Run alone: .venv/bin/python -m bench.ondemand (or through python -m bench).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

from bench.common import percentile, row
from rfconsole.ondemand.booter import Booter
from rfconsole.ondemand.listener import ListenerSettings, SwitchListener
from rfconsole.ondemand.registry import SwitchRegistry
from rfconsole.ondemand.simswitch import SimulatedSwitch
from rfconsole.virt.events import DomainState
from rfconsole.virt.fleet import Fleet

LATENCY_SWITCHES = 40
BURST = 100
FIRST_DPID = 0x1000


def _node_xml(path: Path, count: int) -> str:
    domains = "\n".join(
        f"  <domain type='test'><name>od{index:03d}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        f"<os><type>hvm</type></os><test:runstate>5</test:runstate></domain>"
        for index in range(count)
    )
    path.write_text(f"<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n{domains}\n</node>\n")
    return f"test://{path}"


def _names(count: int) -> list[str]:
    return [f"od{index:03d}" for index in range(count)]


async def _with_listener(fleet: Fleet, mapping: dict[int, tuple[str, ...]], work):
    registry = SwitchRegistry()
    booter = Booter(fleet, mapping)
    booter.attach(registry)
    try:
        # every simulated switch connects from 127.0.0.1: allow the burst from one address
        async with SwitchListener(registry, ListenerSettings(port=0, max_per_address=BURST)) as listener:
            return await work(listener, booter)
    finally:
        booter.close()


async def _latency(uri: str) -> tuple[list[float], list[float]]:
    """(handshake times of unmapped switches, connect -> start issued of mapped ones)."""
    fleet = Fleet(None, None, connect=uri)
    names = _names(LATENCY_SWITCHES)
    mapping = {FIRST_DPID + index: (name,) for index, name in enumerate(names)}

    async def work(listener: SwitchListener, booter: Booter) -> tuple[list[float], list[float]]:
        handshakes, issued = [], []
        for index in range(LATENCY_SWITCHES):
            for datapath_id, into in ((0xFFFF00 + index, handshakes), (FIRST_DPID + index, issued)):
                switch = SimulatedSwitch(datapath_id)
                began = time.monotonic()
                await switch.connect(*listener.address)
                if into is handshakes:
                    into.append(time.monotonic() - began)
                else:
                    while len(booter.records) <= index or booter.records[index].outcome == "pending":  # still in flight
                        await asyncio.sleep(0.001)
                    record = booter.records[index]
                    if record.issued is None:
                        raise RuntimeError(f"switch {datapath_id:x}: {record.vm} was not started ({record.outcome}: {record.error})")
                    into.append(record.issued - began)
                await switch.close()
        return handshakes, issued

    try:
        return await _with_listener(fleet, mapping, work)
    finally:
        fleet.close()


async def _burst(uri: str) -> dict:
    fleet = Fleet(None, None, connect=uri)
    names = _names(BURST)
    mapping = {FIRST_DPID + index: (name,) for index, name in enumerate(names)}

    async def work(listener: SwitchListener, booter: Booter) -> dict:
        switches = [SimulatedSwitch(datapath_id) for datapath_id in mapping]
        began = time.monotonic()
        await asyncio.gather(*(switch.connect(*listener.address, timeout=60) for switch in switches))
        deadline = time.monotonic() + 120
        while len(booter.records) < BURST and time.monotonic() < deadline:  # handshakes still in flight
            await asyncio.sleep(0.001)
        await asyncio.to_thread(booter.wait_idle, 120)
        elapsed = time.monotonic() - began
        running = sum(1 for status in fleet.statuses() if status.state is DomainState.RUNNING)
        for switch in switches:
            await switch.close()
        return {
            "elapsed": elapsed,
            "started": sum(booter.start_calls.values()),
            "running": running,
            "lost": BURST - running,
            "failed": sum(1 for record in booter.records if record.outcome == "failed"),
        }

    try:
        return await _with_listener(fleet, mapping, work)
    finally:
        fleet.close()


def _direct_starts(uri: str) -> float:
    fleet = Fleet(None, None, connect=uri)
    try:
        began = time.monotonic()
        results = fleet.run_many("start", _names(BURST))
        elapsed = time.monotonic() - began
        if not all(result.ok for result in results):
            raise RuntimeError(f"direct starts failed: {[r.message for r in results if not r.ok][:3]}")
        return elapsed
    finally:
        fleet.close()


def run() -> list[dict]:
    logger = logging.getLogger("rfconsole.ondemand")
    level = logger.level
    logger.setLevel(logging.WARNING)  # one line per switch and VM would drown the table
    try:
        with tempfile.TemporaryDirectory(prefix="rfconsole-bench-ondemand-") as folder:
            root = Path(folder)
            handshakes, issued = asyncio.run(_latency(_node_xml(root / "latency.xml", LATENCY_SWITCHES)))
            burst = asyncio.run(_burst(_node_xml(root / "burst.xml", BURST)))
            direct = _direct_starts(_node_xml(root / "direct.xml", BURST))
    finally:
        logger.setLevel(level)
    handshake_p50 = percentile(handshakes, 0.5)
    return [
        row(
            "ondemand.connect_to_start_issued_p50",
            "handshake of an unmapped switch (connect -> FEATURES_REPLY), p50",
            handshake_p50,
            percentile(issued, 0.5),
            switches=LATENCY_SWITCHES,
        ),
        row(
            "ondemand.connect_to_start_issued_p99",
            "handshake of an unmapped switch, p99",
            percentile(handshakes, 0.99),
            percentile(issued, 0.99),
            switches=LATENCY_SWITCHES,
        ),
        row(
            "ondemand.burst_100_switches_to_all_running",
            f"Fleet.run_many('start') on the same {BURST} VMs",
            direct,
            burst["elapsed"],
            switches=BURST,
            started=burst["started"],
            running=burst["running"],
            lost=burst["lost"],
            failed=burst["failed"],
        ),
    ]


if __name__ == "__main__":
    for result in run():
        print(result, file=sys.stdout)
