"""The parser of ``rfconsole map``; the command is in map_cmd.py.

argparse and light constants only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse

from rfconsole.cli import Commands, seconds


def register(commands: Commands) -> None:
    commands.add(
        "map",
        "the lab map: each switch, connected or not, its VMs, their NICs, bridges, ports and counters",
        _arguments,
        run="rfconsole.cli.map_cmd:run_map",
        description="rftest2's topology: each OpenFlow switch of RouteFlow's CSV (and of [ondemand.map]) with whether it is "
        "connected to rfconsole, since when and through which controller connection (from the event timeline that "
        "`rfconsole watch` or the console writes), the VMs that serve it with their state and last on-demand boot, each "
        "VM's NICs with the bridge and port they are plugged into and the port's byte and packet counters (libvirt's "
        "interface statistics), and the bridges (the management bridge first). --follow prints it again whenever it changes.",
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    from pathlib import Path

    parser.add_argument("--json", action="store_true", help="the map as one JSON object (with --follow: one per line)")
    parser.add_argument("--follow", "-f", action="store_true",
                        help="print the map again whenever it changes (a switch, a VM, a counter) until interrupted")
    parser.add_argument("--interval", type=seconds(0.1, 3600), metavar="SECONDS",
                        help="with --follow: seconds between reads of the counters and states; default: 1")
    parser.add_argument(
        "--routeflow-config", type=Path, metavar="FILE",
        help="RouteFlow's CSV (vm_id,vm_port,ct_id,dp_id,dp_port); default: routeflow_config in rfconsole.toml",
    )
