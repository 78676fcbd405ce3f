"""The parser of ``rfconsole details VM``; the command is in details_cmd.py.

argparse only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse

from rfconsole.cli import Commands


def register(commands: Commands) -> None:
    commands.add(
        "details",
        "everything rfconsole can tell about one VM (what the console's details view shows)",
        _arguments,
        run="rfconsole.cli.details_cmd:run_details",
        description="VM's state and libvirt's reason for it, host, hypervisor, vCPUs and memory as defined "
        "and live, each NIC (MAC, bridge or network, host-side device, Open vSwitch port, the OpenFlow "
        "switch and port RouteFlow's CSV maps it to, the guest's addresses where libvirt can tell them), "
        "disks, snapshots, the file in XML/ and whether libvirt's definition says the same, and the "
        "lifecycle events seen. The console's details view (i) shows the same. See docs/console.md.",
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("vm", metavar="VM", help="the domain's name (e.g. rfvmA)")
    parser.add_argument("--host", metavar="NAME", help="the configured host to look on (default: the VM's placement, else where it is found)")
    parser.add_argument("--json", action="store_true", help="one JSON object (the fields: docs/console.md)")
