"""``rfconsole map``: the lab map (parser: map_args.py; the model: rfconsole/ondemand/labmap.py)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from rfconsole.cli import EXIT_FAILED, EXIT_OK, output_lost
from rfconsole.cli.vm_cmd import open_fleet
from rfconsole.ondemand.labmap import (
    COUNTERS_SOURCE,
    EMPTY_MAP_WORDS,
    LabMap,
    LabMapReader,
)
from rfconsole.store import Workdir
from rfconsole.virt.fleet import Fleet
from rfconsole.virt.timeline import Timeline


def map_lines(lab: LabMap, now: float | None = None) -> list[str]:
    """The map as text: each switch with its VMs and their NICs, then the VMs of no switch, then the bridges."""
    now = time.time() if now is None else now
    lines: list[str] = []

    def vm_lines(name: str, indent: str) -> None:
        vm = lab.vm(name)
        if vm is None:  # build_lab_map makes one of every VM it names
            return
        lines.append(f"{indent}{vm.name}  {vm.state_words}" + (f"; {vm.boot.words(now)}" if vm.boot else ""))
        for nic in vm.nics:
            parts = [nic.name, nic.mac or "?", nic.port_words]
            if nic.switch_words:
                parts.append(nic.switch_words)
            if vm.state.is_active:
                parts.append(nic.counter_words)
            lines.append(f"{indent}  " + "  ".join(parts))
        if not vm.nics:
            lines.append(f"{indent}  {vm.no_nic_words}")

    for switch in lab.switches:
        lines.append(f"switch {switch.dpid}  {switch.facts.words(now)}")
        for name in switch.vms:
            vm_lines(name, "  ")
        if not switch.vms:
            lines.append("  mapped to no VM")
    alone = [vm.name for vm in lab.vms if not vm.switches]
    if alone:
        lines.append("VMs of no switch")
        for name in alone:
            vm_lines(name, "  ")
    if lab.bridges:
        lines.append("bridges")
    for bridge in lab.bridges:
        lines.append(f"  {bridge.name}  {bridge.kind_words}, {bridge.role}: {bridge.ports_words}")
    if not lab.switches and not lab.vms:
        lines.append(EMPTY_MAP_WORDS)
    lines.append(f"counters: {COUNTERS_SOURCE}")
    return lines


def _reader(args: argparse.Namespace, fleet: Fleet) -> LabMapReader:
    config = fleet.config
    routeflow_csv = args.routeflow_config or config.ondemand.routeflow_config
    # the folder's timeline is read even where this process would record nothing (the demo)
    timeline = fleet.timeline or Timeline(Workdir(args.workdir).root)
    return LabMapReader(fleet, fleet.store, routeflow_csv, config.ondemand.map, timeline)


def _print(lab: LabMap, as_json: bool) -> None:
    if as_json:
        print(json.dumps(lab.to_json()), flush=True)
    else:
        print("\n".join(map_lines(lab)), flush=True)


def run_map(args: argparse.Namespace) -> int:
    fleet = open_fleet(args)
    try:
        reader = _reader(args, fleet)
        if not args.follow:
            lab = reader.read()
            _print(lab, args.json)
            for problem in lab.problems:
                print(f"rfconsole: {problem}", file=sys.stderr)
            return EXIT_FAILED if lab.csv_unusable else EXIT_OK
        return _follow(args, fleet, reader)
    finally:
        fleet.close()


def _follow(args: argparse.Namespace, fleet: Fleet, reader: LabMapReader) -> int:
    """The map again at each timeline entry (a switch up or down, a boot), each libvirt event (a VM
    starting) and every interval (the counters), printed when it differs from the last one."""
    interval = args.interval or 1.0
    changed = threading.Event()
    stopped = threading.Event()
    reader.follow(changed.set, stopped.is_set)
    fleet.subscribe(lambda _event: changed.set())
    shown: dict[str, object] | None = None
    told: set[str] = set()
    try:
        while not output_lost():
            changed.clear()
            lab = reader.read()
            for problem in lab.problems:
                if problem not in told:
                    told.add(problem)
                    print(f"rfconsole: {problem}", file=sys.stderr, flush=True)
            current = lab.to_json()
            current.pop("time")
            if current != shown:
                shown = current
                if not args.json and sys.stdout.isatty():
                    sys.stdout.write("\x1b[H\x1b[2J")
                _print(lab, args.json)
                if not args.json:
                    print("", flush=True)
            changed.wait(interval)
    except KeyboardInterrupt:
        pass
    finally:
        stopped.set()
    return EXIT_OK
