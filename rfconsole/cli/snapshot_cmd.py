"""``rfconsole snapshot create|list|revert|delete`` (parsers in snapshot_args.py), through
``Fleet.snapshot_*`` (rfconsole/virt/snapshots.py)."""

from __future__ import annotations

import argparse
import json
import sys

from rfconsole.cli import EXIT_OK
from rfconsole.cli.vm_cmd import open_fleet, print_table
from rfconsole.defaults import START_TIMEOUT
from rfconsole.model.errors import InvalidSpec, Problem
from rfconsole.model.text import text_problem

LIST_COLUMNS = ("NAME", "TAKEN (UTC)", "STATE", "MEMORY", "DESCRIPTION")


def run_create(args: argparse.Namespace) -> int:
    fleet = open_fleet(args)
    try:
        print(fleet.snapshot_create(args.vm, args.name, host=args.host, force=args.force, description=args.description))
    finally:
        fleet.close()
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    fleet = open_fleet(args)
    try:
        found = fleet.snapshot_list(args.vm, host=args.host)
    finally:
        fleet.close()
    if args.json:
        json.dump([info.to_json() for info in found], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    if not found:
        print(f"{args.vm} has no snapshots")
        return EXIT_OK
    rows = [LIST_COLUMNS] + [
        (("* " if info.current else "  ") + info.name, info.created.strftime("%Y-%m-%d %H:%M:%S") if info.created else "?",
         info.state, "yes" if info.memory else "no", info.description or "")
        for info in found
    ]
    rows[0] = ("  " + rows[0][0],) + rows[0][1:]
    print_table(rows, sys.stdout)
    return EXIT_OK


def existing_snapshot_name(name: str | None) -> str | None:
    """``name`` of a snapshot to revert to or delete: any name libvirt holds (others' snapshots
    need not follow rfconsole's rule for new ones), but not what no name libvirt holds can be
    (invalid UTF-8, control characters: libvirt's lookup raised on them)."""
    problem = text_problem(name, "a snapshot name") if name is not None else None  # None: the current snapshot
    if problem:
        raise InvalidSpec([Problem("snapshot", name, problem)])
    return name


def run_revert(args: argparse.Namespace) -> int:
    existing_snapshot_name(args.name)
    fleet = open_fleet(args)
    try:
        print(fleet.snapshot_revert(args.vm, args.name, host=args.host, force=args.force, running=args.running,
                                    timeout=START_TIMEOUT if args.running else None))
    finally:
        fleet.close()
    return EXIT_OK


def run_delete(args: argparse.Namespace) -> int:
    existing_snapshot_name(args.name)
    fleet = open_fleet(args)
    try:
        print(fleet.snapshot_delete(args.vm, args.name, host=args.host, force=args.force))
    finally:
        fleet.close()
    return EXIT_OK
