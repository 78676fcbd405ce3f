"""The parser of ``rfconsole watch``; the command is in watch_cmd.py.

argparse and light constants only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rfconsole.defaults import DEFAULT_LISTEN

def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="boot VMs on demand as OpenFlow switches connect (headless)",
        description="Listen as one more (slave) OpenFlow controller; when a switch connects, start the VMs "
        "mapped to its datapath id (RouteFlow's CSV, or [ondemand.map] in rfconsole.toml). Runs until "
        "interrupted; logs every decision with its times on stderr.",
    )
    parser.add_argument(
        "--routeflow-config",
        type=Path,
        metavar="FILE",
        help="RouteFlow's CSV (vm_id,vm_port,ct_id,dp_id,dp_port); default: routeflow_config in rfconsole.toml",
    )
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help=f"where switches connect; default: listen in rfconsole.toml, else {DEFAULT_LISTEN[0]}:{DEFAULT_LISTEN[1]}",
    )
    parser.add_argument("--off", action="store_true", help="track switches but start nothing (on-demand booting off)")
    parser.set_defaults(run="rfconsole.cli.watch_cmd:run_watch")
