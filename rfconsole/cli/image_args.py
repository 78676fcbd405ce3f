"""The parsers of ``rfconsole image base|list|delete``; the commands are in image_cmd.py.

argparse only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse

from rfconsole.cli import Commands, subcommands


def register(commands: Commands) -> None:
    commands.add(
        "image",
        "base images and per-VM overlays (Images/)",
        _image_arguments,
        description="Base images (Images/base/) and the qcow2 overlays VMs get from them "
        "(`rfconsole xml new --base NAME`). See docs/images.md.",
    )


def _image_arguments(image: argparse.ArgumentParser) -> None:
    commands = subcommands(image, dest="image_command", metavar="SUBCOMMAND", required=True)
    commands.add(
        "base",
        "register a qcow2 or raw image as a base",
        _base_arguments,
        run="rfconsole.cli.image_cmd:run_base",
        description="Copy FILE (qcow2 or raw) into Images/base/ as a read-only base image that VMs get "
        "overlays of. A file already in Images/base/ is registered where it is. Refused while a running or "
        "paused VM of this machine's hosts (--connect, rfconsole.toml) writes FILE or a file of its backing "
        "chain, unless --force.",
    )
    commands.add(
        "list",
        "every image: format, sizes, backing chain, which VMs use it",
        _list_arguments,
        run="rfconsole.cli.image_cmd:run_list",
        description="Every image of Images/ and Images/base/: format, virtual size, size on disk, "
        "backing file and the VMs (XML/) whose disk reads it.",
    )
    commands.add(
        "delete",
        "delete a base no overlay and no VM uses",
        _delete_arguments,
        run="rfconsole.cli.image_cmd:run_delete",
        description="Delete a base image. A base that an overlay in Images/ or a VM in XML/ uses is never deleted. "
        "--leftovers removes the hidden temporary files of image commands that were killed (`image list` shows them).",
    )


def _base_arguments(base: argparse.ArgumentParser) -> None:
    base.add_argument("file", metavar="FILE", help="a qcow2 or raw disk image")
    base.add_argument("--name", metavar="NAME", help="the base's name (default: FILE's name without its suffix)")
    base.add_argument(
        "--force",
        action="store_true",
        help="copy FILE even while a running or paused VM writes it (or a file of its backing chain): the copy may be inconsistent",
    )


def _list_arguments(listing: argparse.ArgumentParser) -> None:
    listing.add_argument("--json", action="store_true", help="a JSON list of objects, one per image, and the total on disk")


def _delete_arguments(delete: argparse.ArgumentParser) -> None:
    delete.add_argument("name", metavar="NAME", nargs="?", help="the base's name (see `rfconsole image list`)")
    delete.add_argument(
        "--leftovers",
        action="store_true",
        help="instead: remove the temporary files that image commands killed mid-copy left (listed as [leftover])",
    )
