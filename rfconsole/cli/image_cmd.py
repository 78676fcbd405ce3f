"""``rfconsole image base|list|delete`` (parsers in image_args.py): base images and the
overlays of the VMs (Images/). The work is done by rfconsole/images/ (qemu-img); this module reads the command line and prints.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rfconsole.cli import EXIT_OK
from rfconsole.cli.vm_cmd import open_fleet
from rfconsole.cli.xml_cmd import warn
from rfconsole.errors import UsageError
from rfconsole.images import ImageError, ImageRow, Images, human_size, image_info
from rfconsole.store import Store, Workdir

LIST_COLUMNS = ("IMAGE", "FORMAT", "VIRTUAL", "ON DISK", "BACKING", "USED BY")


def _workdir(args: argparse.Namespace) -> Workdir:
    return Workdir(getattr(args, "workdir", None) or Path.cwd())


def run_base(args: argparse.Namespace) -> int:
    images = Images(_workdir(args))
    info = image_info(args.file)
    _refuse_a_file_being_written(args, info.chain)
    beside = Path(os.path.realpath(info.path)).parent
    for file in images.outside(info):
        if Path(os.path.realpath(file)).parent != beside:
            warn(f"{info.path} is backed by {file}, outside the working folder: the base holds its data too "
                 "(and is readable by no more users than it)")
    path, copied = images.register_base(args.file, args.name)
    info_size = human_size(path.stat().st_blocks * 512)
    print(f"{'copied to' if copied else 'registered'} {path} ({info_size} on disk, read-only): "
          f"base {path.stem!r}; give a VM an overlay of it with `rfconsole xml new … --base {path.stem}`")
    return EXIT_OK


def _refuse_a_file_being_written(args: argparse.Namespace, chain: tuple[Path, ...]) -> None:
    """A running (or paused) domain of this machine's hosts that writes FILE, or a file of its
    backing chain, would make the copy inconsistent: refused, or with --force a warning."""
    fleet = open_fleet(args, announce_demo=False)
    try:
        if fleet.demo and not args.demo:
            warn(f"no host to ask (neither --connect nor an rfconsole.toml): not checked whether a running VM writes {chain[0]}")
            return
        found = fleet.writers_of(chain)
    finally:
        fleet.close()
    for unchecked in found.unchecked:
        warn(f"could not ask whether a running VM writes {chain[0]}: {unchecked}")
    if not found.writers:
        return
    source = chain[0]
    said = "; ".join(
        f"{writer} writes " + ("it" if writer.path == source else f"{writer.path}, a backing file of it") for writer in found.writers
    )
    if args.force:
        warn(f"copying {source} while {said}: the copy may be inconsistent (--force)")
        return
    first = found.writers[0]
    raise ImageError(
        f"refusing to copy {source} as a base: {said}; a copy taken while a guest writes may be inconsistent",
        hint=f"shut {first.domain} down first (rfconsole shutdown {first.domain}), or make the file stop changing with a "
        f"disk-only snapshot (virsh snapshot-create-as {first.domain} --disk-only: the guest then writes a new overlay); "
        "--force copies it anyway",
    )


def run_list(args: argparse.Namespace) -> int:
    workdir = _workdir(args)
    images = Images(workdir)
    rows = images.listing(Store(workdir))
    total = sum(row.info.disk_usage for row in rows if row.info is not None)
    if args.json:
        json.dump({"images": [row.to_json() for row in rows], "total_disk_usage": total}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    if not rows:
        print(f"no images in {images.folder}")
        return EXIT_OK
    table = [LIST_COLUMNS] + [_list_row(row, images.folder) for row in rows]
    widths = [max(len(line[column]) for line in table) for column in range(len(LIST_COLUMNS))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    overlays = [row.info for row in rows if row.info is not None and row.info.is_overlay]
    virtual = sum(info.virtual_size for info in overlays)
    summary = f"\n{len(rows)} images, {human_size(total)} on disk"
    if overlays:
        summary += f"; {len(overlays)} overlays hold {human_size(sum(info.disk_usage for info in overlays))} of their own ({human_size(virtual)} as full copies)"
    print(summary)
    for row in rows:
        for note in row.notes:
            warn(f"{row.path.relative_to(images.folder)} {note}")
    return EXIT_OK


def _list_row(row: ImageRow, folder: Path) -> tuple[str, ...]:
    name = str(row.path.relative_to(folder))
    if row.leftover:
        return (name + " [leftover]", "?", "", human_size(row.path.stat().st_blocks * 512) if row.path.exists() else "",
                (row.problem or "") + ": rfconsole image delete --leftovers", "-")
    if row.info is None:
        return (name, "?", "", "", row.problem or "", ", ".join(row.used_by))
    info = row.info
    backing = info.backing_text or ""
    if backing and info.backing_format:
        backing += f" ({info.backing_format})"
    return (name + (" [base]" if row.base else ""), info.format, human_size(info.virtual_size), human_size(info.disk_usage),
            backing or "-", ", ".join(row.used_by) or "-")


def run_delete(args: argparse.Namespace) -> int:
    workdir = _workdir(args)
    if args.leftovers:
        if args.name is not None:
            raise UsageError("give either a base's NAME or --leftovers, not both")
        removed = Images(workdir).sweep_leftovers()
        for path in removed:
            print(f"removed {path}")
        print(f"{len(removed)} leftover{'s' if len(removed) != 1 else ''} of killed image commands removed")
        return EXIT_OK
    if args.name is None:
        raise UsageError("give the NAME of the base to delete (see rfconsole image list), or --leftovers")
    path = Images(workdir).delete_base(args.name, Store(workdir))
    print(f"deleted base {path}")
    return EXIT_OK
