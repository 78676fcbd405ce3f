"""The parser of ``rfconsole top``; the command is in top_cmd.py.

argparse and light constants only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse

from rfconsole.cli import Commands, seconds


def register(commands: Commands) -> None:
    commands.add(
        "top",
        "each VM's CPU, memory, disk and network rates, refreshed (like virt-top)",
        _arguments,
        run="rfconsole.cli.top_cmd:run_top",
        description="Each domain's CPU % (of one host CPU, as top counts), memory, disk and network bytes per second, "
        "from one getAllDomainStats call per host per tick. Refreshes until interrupted; --once prints one tick.",
    )




def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON array per tick, on one line each")
    parser.add_argument("--once", action="store_true", help="print one tick (rates over one interval) and exit")
    parser.add_argument("--interval", type=seconds(0.1, 3600), metavar="SECONDS", help="seconds between ticks; default: 1")
