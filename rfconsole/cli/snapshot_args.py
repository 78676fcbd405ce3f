"""The parsers of ``rfconsole snapshot create|list|revert|delete``; the commands are in snapshot_cmd.py.

argparse only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    snapshot = subparsers.add_parser(
        "snapshot",
        help="snapshots of a VM: create, list, revert, delete",
        description="Internal qcow2 snapshots through libvirt (a running VM's memory too). LXC containers, "
        "VMs without a disk and VMs on raw disks are refused, saying why. See docs/images.md.",
    )
    commands = snapshot.add_subparsers(dest="snapshot_command", metavar="SUBCOMMAND", required=True)

    create = commands.add_parser("create", help="take a snapshot (running or shut off)", description="Take a snapshot of VM: its disks, and its memory when it runs.")
    create.add_argument("vm", metavar="VM")
    create.add_argument("name", nargs="?", metavar="NAME", help="the snapshot's name (default: snap-<UTC time>)")
    create.add_argument("--description", metavar="TEXT", help="a line saying what the snapshot holds")
    _common(create)
    create.set_defaults(run="rfconsole.cli.snapshot_cmd:run_create")

    listing = commands.add_parser("list", help="the snapshots of a VM", description="The snapshots of VM, oldest first; * marks libvirt's current one.")
    listing.add_argument("vm", metavar="VM")
    listing.add_argument("--json", action="store_true", help="a JSON list of objects, one per snapshot")
    listing.add_argument("--host", metavar="NAME", help="the configured host to look on (default: the VM's placement)")
    listing.set_defaults(run="rfconsole.cli.snapshot_cmd:run_list")

    revert = commands.add_parser(
        "revert",
        help="back to a snapshot: what changed since is lost",
        description="Put VM back to snapshot NAME (default: the current one, the last taken or reverted to). "
        "Everything the VM wrote since, and its running state, is lost.",
    )
    revert.add_argument("vm", metavar="VM")
    revert.add_argument("name", nargs="?", metavar="NAME", help="the snapshot (default: the current one)")
    revert.add_argument("--running", action="store_true", help="start the VM afterwards even if the snapshot was taken shut off")
    _common(revert)
    revert.set_defaults(run="rfconsole.cli.snapshot_cmd:run_revert")

    delete = commands.add_parser("delete", help="delete a snapshot (the VM's current state stays)", description="Delete snapshot NAME of VM; the VM itself is not changed.")
    delete.add_argument("vm", metavar="VM")
    delete.add_argument("name", metavar="NAME")
    _common(delete)
    delete.set_defaults(run="rfconsole.cli.snapshot_cmd:run_delete")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="also act on domains without rfconsole's ownership mark")
    parser.add_argument("--host", metavar="NAME", help="the configured host to act on (default: the VM's placement)")
