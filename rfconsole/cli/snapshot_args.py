"""The parsers of ``rfconsole snapshot create|list|revert|delete``; the commands are in snapshot_cmd.py.

argparse only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse

from rfconsole.cli import Commands, subcommands


def register(commands: Commands) -> None:
    commands.add(
        "snapshot",
        "snapshots of a VM: create, list, revert, delete",
        _snapshot_arguments,
        description="Internal qcow2 snapshots through libvirt (a running VM's memory too). LXC containers, "
        "VMs without a disk and VMs on raw disks are refused, saying why. See docs/images.md.",
    )


def _snapshot_arguments(snapshot: argparse.ArgumentParser) -> None:
    commands = subcommands(snapshot, dest="snapshot_command", metavar="SUBCOMMAND", required=True)
    commands.add(
        "create", "take a snapshot (running or shut off)", _create_arguments, run="rfconsole.cli.snapshot_cmd:run_create",
        description="Take a snapshot of VM: its disks, and its memory when it runs.",
    )
    commands.add(
        "list", "the snapshots of a VM", _list_arguments, run="rfconsole.cli.snapshot_cmd:run_list",
        description="The snapshots of VM, oldest first; * marks libvirt's current one.",
    )
    commands.add(
        "revert", "back to a snapshot: what changed since is lost", _revert_arguments, run="rfconsole.cli.snapshot_cmd:run_revert",
        description="Put VM back to snapshot NAME (default: the current one, the last taken or reverted to). "
        "Everything the VM wrote since, and its running state, is lost.",
    )
    commands.add(
        "delete", "delete a snapshot (the VM's current state stays)", _delete_arguments, run="rfconsole.cli.snapshot_cmd:run_delete",
        description="Delete snapshot NAME of VM; the VM itself is not changed.",
    )


def _create_arguments(create: argparse.ArgumentParser) -> None:
    create.add_argument("vm", metavar="VM")
    create.add_argument("name", nargs="?", metavar="NAME", help="the snapshot's name (default: snap-<UTC time>)")
    create.add_argument("--description", metavar="TEXT", help="a line saying what the snapshot holds")
    _common(create)


def _list_arguments(listing: argparse.ArgumentParser) -> None:
    listing.add_argument("vm", metavar="VM")
    listing.add_argument("--json", action="store_true", help="a JSON list of objects, one per snapshot")
    listing.add_argument("--host", metavar="NAME", help="the configured host to look on (default: the VM's placement)")


def _revert_arguments(revert: argparse.ArgumentParser) -> None:
    revert.add_argument("vm", metavar="VM")
    revert.add_argument("name", nargs="?", metavar="NAME", help="the snapshot (default: the current one)")
    revert.add_argument("--running", action="store_true", help="start the VM afterwards even if the snapshot was taken shut off")
    _common(revert)


def _delete_arguments(delete: argparse.ArgumentParser) -> None:
    delete.add_argument("vm", metavar="VM")
    delete.add_argument("name", metavar="NAME")
    _common(delete)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="also act on domains without rfconsole's ownership mark")
    parser.add_argument("--host", metavar="NAME", help="the configured host to act on (default: the VM's placement)")
