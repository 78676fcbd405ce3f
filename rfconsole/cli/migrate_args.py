"""The parser of ``rfconsole migrate VM HOST``; the command is in migrate_cmd.py.

argparse only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse

from rfconsole.cli import Commands


def register(commands: Commands) -> None:
    commands.add(
        "migrate",
        "move a VM to another host of rfconsole.toml (libvirt's managed migration)",
        _migrate_arguments,
        run="rfconsole.cli.migrate_cmd:run_migrate",
        description="Move VM to HOST with libvirt's managed migration: defined on HOST, undefined on its "
        "host only once that succeeded. A running VM moves live (its progress shown: data remaining, "
        "then the downtime), a shut-off one moves its definition (offline). Refused, with nothing "
        "touched, when the VM is not rfconsole's (without --force), HOST does not run its hypervisor or "
        "architecture, or a file it reads (each disk down to its overlay's backing base, kernel, initrd) "
        "is not on HOST: rfconsole copies no storage. See docs/lifecycle.md.",
    )


def _migrate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("vm", metavar="VM", help="the VM to move (defined on one of the hosts)")
    parser.add_argument("target", metavar="HOST", help="the host to move it to (a name of [hosts] in rfconsole.toml)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--live", dest="mode", action="store_const", const="live", help="it must be running: move it without stopping it (the default for a running VM)")
    mode.add_argument("--offline", dest="mode", action="store_const", const="offline", help="it must be shut off: move its definition (the default for a shut-off VM)")
    parser.add_argument("--force", action="store_true", help="migrate a domain without rfconsole's ownership mark")
