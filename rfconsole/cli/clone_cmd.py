"""``rfconsole clone SRC NEW`` (parser in clone_args.py), through ``Fleet.clone`` (rfconsole/virt/clone.py)."""

from __future__ import annotations

import argparse
import sys

from rfconsole.cli import EXIT_OK
from rfconsole.cli.vm_cmd import open_fleet
from rfconsole.cli.xml_cmd import print_rows
from rfconsole.model.rftest2 import RouteflowRowsError, new_vm_rows, parse_datapath_id


def run_clone(args: argparse.Namespace) -> int:
    datapath_id = parse_datapath_id(args.datapath_id, "--datapath-id") if args.datapath_id is not None else None
    fleet = open_fleet(args)
    try:
        print(fleet.clone(args.source, args.new, force=args.force, routeflow_config=args.routeflow_config, datapath_id=datapath_id, new_id=args.id))
        if args.routeflow_config is None:
            try:
                print_rows(args.new, new_vm_rows(fleet.document_of(args.new).spec(), datapath_id))
            except RouteflowRowsError as error:
                print(f"rfconsole: warning: no RouteFlow rows for {args.new}: {error.message}", file=sys.stderr)
        if args.up:
            print(f"{args.new}: {fleet.up(args.new, timeout=args.timeout)}")
        else:
            print(f"start it with: rfconsole up {args.new}")
    finally:
        fleet.close()
    return EXIT_OK
