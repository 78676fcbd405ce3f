"""The parser of ``rfconsole console``; the command is in console_cmd.py.

argparse and light constants only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse

from rfconsole.cli import Commands


def register(commands: Commands) -> None:
    commands.add(
        "console",
        "attach the terminal to a running VM's console (ctrl+] detaches)",
        _arguments,
        run="rfconsole.cli.console_cmd:run_console",
        description="Attach this terminal to VM's text console (QEMU/KVM's serial port, LXC's console) "
        "through libvirt, like `virsh console`: what you type goes to the guest, ctrl+] detaches. The "
        "terminal is restored however the session ends (detach, guest shutdown, host gone, SIGTERM). "
        "Refused while another client holds the console, unless --force.",
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("vm", metavar="VM", help="the domain's name (e.g. rfvmA)")
    parser.add_argument("--host", metavar="NAME", help="the host (of rfconsole.toml) the VM runs on; default: where it is found")
    parser.add_argument(
        "--force",
        action="store_true",
        help="take the console over when another client holds it (that client is disconnected)",
    )
