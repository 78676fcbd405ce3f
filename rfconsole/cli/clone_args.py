"""The parser of ``rfconsole clone SRC NEW``; the command is in clone_cmd.py.

argparse only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse

from rfconsole.cli import Commands, add_routeflow_rows_options, seconds
from rfconsole.defaults import START_TIMEOUT


def register(commands: Commands) -> None:
    commands.add(
        "clone",
        "a new VM from an existing one: new name, id, MACs, NIC names, its own overlay",
        _clone_arguments,
        run="rfconsole.cli.clone_cmd:run_clone",
        description="Write XML/NEW.xml from SRC's XML: a new id, MACs no VM of XML/ or of any host uses "
        "(rftest2's convention for rfvmE and rfvmF: 02:e0:…, data NICs 02:e1:… as rfvmE.1 …), host-side "
        "NIC names NEW.k, and a fresh qcow2 overlay of SRC's base (Images/h5.qcow2 for rfvmE, else "
        "Images/NEW.qcow2). SRC's own disk is never shared or copied. See docs/images.md.",
    )


def _clone_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SRC", help="the VM to clone (its XML in XML/)")
    parser.add_argument("new", metavar="NEW", help="the new VM's name (rfvmE, rfvmF follow rftest2's convention)")
    parser.add_argument("--id", type=int, default=None, metavar="N", help="the new VM's rfconsole id (default: rftest2's for rfvmE/rfvmF when free, else the next free one)")
    parser.add_argument("--force", action="store_true", help="replace an existing overlay file (the old one is kept in Images/.backup/)")
    add_routeflow_rows_options(parser, "NEW")
    parser.add_argument("--up", action="store_true", help="then define and start it (as `rfconsole up NEW`)")
    parser.add_argument("--timeout", type=seconds(0, 86400), default=START_TIMEOUT, metavar="S", help=f"with --up: seconds to wait for it to be running (default {START_TIMEOUT:g})")
