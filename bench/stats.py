"""One resource tick (issue 21) on the real libvirtd with 1,000 defined domains.

- ``stats.tick_1000_domains``: ``Fleet.domain_counters()`` and ``ResourceHistory.update`` (what
  `rfconsole top` and the console do once per tick: one getAllDomainStats call per host, the
  records turned into counters and rates); baseline: one bare ``getAllDomainStats`` call in
  libvirt-python with the same groups and flags on the same daemon.
- ``stats.poll_statuses_1000_domains``: ``Host.statuses()``, the console table's poll (state,
  memory, vCPUs, CPU %, ownership already known); baseline: one bare ``getAllDomainStats`` call
  with its groups. ``stats.poll_per_domain_info_1000_domains``: what the poll did before, one
  ``info()`` per domain after ``listAllDomains``, against the same baseline.

The 1,000 domains (rfbench-stats-0000 …, shut off: the figures of running ones would measure
QEMU, not the tick) are defined through libvirt-python before and undefined after, even when
the measurement fails. Medians over REPEATS. Run alone: .venv/bin/python -m bench.stats
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import libvirt

from bench.common import DAEMONS_LOCK, hold_daemons_lock, median, row, shut_off_domains
from rfconsole.config import Config
from rfconsole.store import Store, Workdir
from rfconsole.virt.fleet import Fleet
from rfconsole.virt.host import STATS_GROUPS, STATUS_GROUPS
from rfconsole.virt.stats import ResourceHistory

URI = "qemu:///system"
DOMAINS = 1000
PREFIX = "rfbench-stats-"
REPEATS = 31


def run() -> list[dict]:
    with hold_daemons_lock(f"bench.stats: waiting for the integration tests to release {DAEMONS_LOCK}"):
        return _measure()


def _measure() -> list[dict]:
    connection = libvirt.open(URI)
    try:
        with shut_off_domains(connection, PREFIX, DOMAINS) as define_s:
            return [_tick_against_bare_call(connection, define_s), *_poll_against_bare_call(connection)]
    finally:
        connection.close()


def _tick_against_bare_call(connection: libvirt.virConnect, define_s: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="rfconsole-bench-") as folder:
        workdir = Workdir(Path(folder))
        fleet = Fleet(Config.load(workdir), Store(workdir), connect=URI)
        try:
            history = ResourceHistory()
            history.update(fleet.domain_counters()[0])  # the connection opened, outside the timing
            bare, ticks = [], []
            for _ in range(REPEATS):
                started = time.perf_counter()
                records = connection.getAllDomainStats(STATS_GROUPS, libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT)
                bare.append(time.perf_counter() - started)
                started = time.perf_counter()
                counters, problems = fleet.domain_counters()
                resources = history.update(counters)
                ticks.append(time.perf_counter() - started)
                ours = sum(1 for r in resources if r.name.startswith(PREFIX))
                if problems or ours != DOMAINS or sum(1 for domain, _ in records if domain.name().startswith(PREFIX)) != DOMAINS:
                    raise RuntimeError(f"a tick saw {ours} of the {DOMAINS} domains ({problems})")
        finally:
            fleet.close()
    return row(
        "stats.tick_1000_domains", "one bare getAllDomainStats call (libvirt-python)", median(bare), median(ticks),
        domains=DOMAINS, repeats=REPEATS, define_1000_s=round(define_s, 2),
    )


def _poll_against_bare_call(connection: libvirt.virConnect) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="rfconsole-bench-") as folder:
        workdir = Workdir(Path(folder))
        fleet = Fleet(Config.load(workdir), Store(workdir), connect=URI)
        try:
            host = fleet.host()
            host.statuses()  # the connection opened and each domain's ownership read once, outside the timing
            bare, polls, per_domain = [], [], []
            for _ in range(REPEATS):
                started = time.perf_counter()
                connection.getAllDomainStats(STATUS_GROUPS, libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT)
                bare.append(time.perf_counter() - started)
                started = time.perf_counter()
                statuses = host.statuses()
                polls.append(time.perf_counter() - started)
                started = time.perf_counter()
                for domain in connection.listAllDomains(0):
                    domain.info()
                per_domain.append(time.perf_counter() - started)
                if sum(1 for status in statuses if status.name.startswith(PREFIX)) != DOMAINS or not host.bulk_statuses:
                    raise RuntimeError(f"a poll did not read the {DOMAINS} domains in one call")
        finally:
            fleet.close()
    baseline = "one bare getAllDomainStats call with the poll's groups (libvirt-python)"
    return [
        row("stats.poll_statuses_1000_domains", baseline, median(bare), median(polls), domains=DOMAINS, repeats=REPEATS),
        row("stats.poll_per_domain_info_1000_domains", baseline, median(bare), median(per_domain), domains=DOMAINS, repeats=REPEATS),
    ]


if __name__ == "__main__":
    from bench.common import format_table

    print(format_table(run()))
