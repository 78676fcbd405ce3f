"""``rfconsole clone SRC NEW`` (parser in clone_args.py), through ``Fleet.clone`` (rfconsole/virt/clone.py)."""

from __future__ import annotations

import argparse

from rfconsole.cli import EXIT_OK
from rfconsole.cli.vm_cmd import open_fleet


def run_clone(args: argparse.Namespace) -> int:
    fleet = open_fleet(args)
    try:
        print(fleet.clone(args.source, args.new, force=args.force))
        if args.up:
            print(f"{args.new}: {fleet.up(args.new, timeout=args.timeout)}")
        else:
            print(f"start it with: rfconsole up {args.new}")
    finally:
        fleet.close()
    return EXIT_OK
