"""``rfconsole top``: resources per VM from one bulk call per host per tick (parser: top_args.py)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from rfconsole.cli import EXIT_FAILED, EXIT_OK, output_lost
from rfconsole.cli.vm_cmd import open_fleet, print_table
from rfconsole.virt.stats import ResourceHistory, Resources, human_rate

TOP_COLUMNS = ("NAME", "HOST", "STATE", "CPU%", "MEMORY", "DISK R/s", "DISK W/s", "NET RX/s", "NET TX/s")


def top_rows(resources: list[Resources]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [TOP_COLUMNS]
    for r in sorted(resources, key=lambda r: (-r.cpu_percent, r.name)):
        rows.append((
            r.name, r.host, r.state.value, f"{r.cpu_percent:.1f}", f"{r.memory_mib} MiB" if r.memory_mib is not None else "-",
            human_rate(r.disk_read_bytes_per_s), human_rate(r.disk_write_bytes_per_s),
            human_rate(r.net_rx_bytes_per_s), human_rate(r.net_tx_bytes_per_s),
        ))
    return rows


def run_top(args: argparse.Namespace) -> int:
    interval = args.interval or 1.0
    fleet = open_fleet(args)
    history = ResourceHistory()
    clear = sys.stdout.isatty() and not args.json and not args.once
    try:
        counters, problems = fleet.domain_counters()  # the first tick: rates need two
        history.update(counters)
        while True:
            time.sleep(interval)
            counters, problems = fleet.domain_counters()
            resources = history.update(counters)
            if clear:
                sys.stdout.write("\x1b[H\x1b[2J")
            if args.json:
                print(json.dumps([r.to_json() for r in resources]), flush=True)
            elif resources:
                print_table(top_rows(resources), sys.stdout)
                print("", flush=True)
            else:
                print("no domains", flush=True)
            for problem in problems:
                print(f"rfconsole: error: {problem.message}", file=sys.stderr)
            if args.once or output_lost():
                return EXIT_FAILED if problems and args.once else EXIT_OK
    finally:
        fleet.close()
