"""The parser of ``rfconsole watch``; the command is in watch_cmd.py.

argparse and light constants only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse

from rfconsole.cli import Commands
from rfconsole.defaults import DEFAULT_LISTEN


def register(commands: Commands) -> None:
    commands.add(
        "watch",
        "boot VMs on demand as OpenFlow switches connect (headless)",
        _arguments,
        run="rfconsole.cli.watch_cmd:run_watch",
        description="Listen as one more (slave) OpenFlow controller; when a switch connects, start the VMs "
        "mapped to its datapath id (RouteFlow's CSV, or [ondemand.map] in rfconsole.toml). Runs until "
        "interrupted; logs every decision with its times on stderr.",
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    from pathlib import Path

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
