"""The parsers of ``rfconsole image base|list|delete``; the commands are in image_cmd.py.

argparse only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    image = subparsers.add_parser(
        "image",
        help="base images and per-VM overlays (Images/)",
        description="Base images (Images/base/) and the qcow2 overlays VMs get from them "
        "(`rfconsole xml new --base NAME`). See docs/images.md.",
    )
    commands = image.add_subparsers(dest="image_command", metavar="SUBCOMMAND", required=True)
    base = commands.add_parser(
        "base",
        help="register a qcow2 or raw image as a base",
        description="Copy FILE (qcow2 or raw) into Images/base/ as a read-only base image that VMs get "
        "overlays of. A file already in Images/base/ is registered where it is.",
    )
    base.add_argument("file", metavar="FILE", help="a qcow2 or raw disk image")
    base.add_argument("--name", metavar="NAME", help="the base's name (default: FILE's name without its suffix)")
    base.set_defaults(run="rfconsole.cli.image_cmd:run_base")

    listing = commands.add_parser(
        "list",
        help="every image: format, sizes, backing chain, which VMs use it",
        description="Every image of Images/ and Images/base/: format, virtual size, size on disk, "
        "backing file and the VMs (XML/) whose disk reads it.",
    )
    listing.add_argument("--json", action="store_true", help="a JSON list of objects, one per image, and the total on disk")
    listing.set_defaults(run="rfconsole.cli.image_cmd:run_list")

    delete = commands.add_parser(
        "delete",
        help="delete a base no overlay and no VM uses",
        description="Delete a base image. A base that an overlay in Images/ or a VM in XML/ uses is never deleted.",
    )
    delete.add_argument("name", metavar="NAME", help="the base's name (see `rfconsole image list`)")
    delete.set_defaults(run="rfconsole.cli.image_cmd:run_delete")
