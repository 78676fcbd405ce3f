"""Images/: base images, per-VM qcow2 overlays backed by them, and which VMs use what.

A base is a qcow2 or raw image in ``Images/base/``, registered with ``rfconsole image base FILE``
(copied there by ``qemu-img convert``, then made read-only: an overlay is only as good as its
base staying unchanged). A VM's overlay is a small qcow2 file in Images/ (``h1.qcow2``) that
records its base's format and a path to it *relative to the overlay's folder*
(``base/debian.qcow2``), so the working folder can be moved. Four VMs cost one base plus what
each writes.

Everything is done by ``qemu-img`` (Debian package qemu-utils); nothing here talks to libvirt.
An overlay is never written over an existing file unless asked (the old file is then kept in
``Images/.backup/``), and a base that an overlay or a VM uses is never deleted.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rfconsole.images.errors import (
    QEMU_IMG_HINT as QEMU_IMG_HINT,  # the images' words for their callers
)
from rfconsole.images.errors import ImageError as ImageError
from rfconsole.images.qemu_img import qemu_img
from rfconsole.model.text import (
    file_kind,
    file_type_words,
    missing_folder_words,
    own_folder_problem,
)

if TYPE_CHECKING:
    from rfconsole.model.spec import DomainSpec

BASE_FOLDER = "base"
BACKUP_FOLDER = ".backup"
BASE_FORMATS = ("qcow2", "raw")
BASE_SUFFIX = {"qcow2": ".qcow2", "raw": ".img"}
OVERLAY_SUFFIX = ".qcow2"
INFO_TIMEOUT = 20  # reading one file's header: milliseconds, unless the file is not what it seems
MAX_CHAIN = 16  # backing files followed at most (a chain of bases and overlays is 2 or 3 deep)
# qemu-img's protocol prefixes (nbd://, http:, json:{…}, ssh: …): a backing named so is not a file
# of this machine, and reading it would open a network connection
_PROTOCOL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
LEFTOVER_SUFFIX = ".tmp"
LEFTOVER_GRACE_SECONDS = 1  # between a temporary file's creation and its writer's lock: microseconds


@dataclass(frozen=True)
class ImageInfo:
    """What qemu-img says of one image file, and its size on disk (allocated blocks)."""

    path: Path
    format: str
    virtual_size: int  # bytes the guest sees
    disk_usage: int  # bytes allocated on the host's disk
    backing: Path | None = None  # absolute path of the backing file (None: standalone)
    backing_text: str | None = None  # the backing path as recorded in the file (relative for ours)
    backing_format: str | None = None
    chain: tuple[Path, ...] = ()  # this file, then each backing file down to the bottom

    @property
    def is_overlay(self) -> bool:
        return self.backing is not None


@dataclass
class ImageRow:
    """One line of ``rfconsole image list``: an image, whether it is a base, which VMs use it."""

    info: ImageInfo | None
    path: Path
    base: bool
    used_by: list[str] = field(default_factory=list)  # VM names whose disk chain includes it
    problem: str | None = None  # qemu-img could not read it, or rfconsole would not let it
    notes: list[str] = field(default_factory=list)  # what else reading it reads: files outside the working folder
    leftover: bool = False  # a temporary file of an image command that was killed

    def to_json(self) -> dict[str, Any]:
        info = self.info
        return {
            "path": str(self.path),
            "base": self.base,
            "format": info.format if info else None,
            "virtual_size": info.virtual_size if info else None,
            "disk_usage": info.disk_usage if info else None,
            "backing": str(info.backing) if info and info.backing else None,
            "backing_recorded": info.backing_text if info else None,
            "backing_format": info.backing_format if info else None,
            "chain": [str(path) for path in info.chain] if info else [],
            "used_by": self.used_by,
            "problem": self.problem,
            "notes": self.notes,
            "leftover": self.leftover,
        }


def image_info(path: str | os.PathLike[str]) -> ImageInfo:
    """qemu-img's view of ``path`` and its backing chain, read one file at a time (force-share:
    the file may be in use by a running guest; each header read bounded in time). A backing that
    is not a regular file of this machine is never opened: a network or ``json:`` backing, a
    FIFO, a device, a missing file, a loop or a chain deeper than MAX_CHAIN is an ImageError
    naming it, and so is a qcow2 file of the chain with an external data file."""
    path = Path(os.path.abspath(path))
    problem = _not_an_image_file(path)
    if problem:
        raise ImageError(f"{path} {problem}")
    top = _header(path)
    chain = [path]
    layer, current = top, path
    while layer.get("backing-filename"):
        backing = _backing_of(current, layer)
        if backing.resolve() in {file.resolve() for file in chain}:
            raise ImageError(f"{path}: its backing chain loops ({current.name} is backed by {backing}, already in the chain)")
        if len(chain) >= MAX_CHAIN:
            raise ImageError(f"{path}: its backing chain is deeper than {MAX_CHAIN} files; rfconsole does not follow it")
        chain.append(backing)
        layer, current = _header(backing), backing
    return ImageInfo(
        path=path,
        format=top.get("format", "?"),
        virtual_size=int(top.get("virtual-size", 0)),
        disk_usage=disk_usage(path),
        backing=chain[1] if len(chain) > 1 else None,
        backing_text=top.get("backing-filename"),
        backing_format=top.get("backing-filename-format"),
        chain=tuple(chain),
    )


def _not_an_image_file(path: Path) -> str | None:
    """Why ``path`` cannot be an image file, as words following it (qemu-img would block on a
    FIFO, read a device for ever): None for a regular file."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "does not exist (no such image file)"
    except (OSError, ValueError) as error:
        return f"cannot be read ({getattr(error, 'strerror', None) or error})"
    if stat.S_ISREG(mode):
        return None
    return f"is {file_type_words(mode)}, not an image file"


def _header(path: Path) -> dict[str, Any]:
    """qemu-img info of this one file (neither its backing file nor its data file is opened).
    A qcow2 file whose data lives in an external data file is refused: rfconsole never makes
    one, and anything reading the image (a copy into a base, a guest) would read that other file,
    which may be anything (a secret, a FIFO, ``nbd://…``) without appearing in the chain."""
    text = qemu_img("info", "--output=json", "-U", str(path), doing=f"read {path}", timeout=INFO_TIMEOUT)
    try:
        layer = json.loads(text)
    except ValueError:
        raise ImageError(f"cannot read {path}: qemu-img's answer is not JSON") from None
    if not isinstance(layer, dict):
        raise ImageError(f"cannot read {path}: qemu-img's answer is not one image")
    specific = layer.get("format-specific")
    data_file = specific.get("data", {}).get("data-file") if isinstance(specific, dict) and isinstance(specific.get("data"), dict) else None
    if data_file:
        raise ImageError(
            f"{path} keeps its data in an external data file, {data_file!r}; rfconsole does not open it",
            hint="make a self-contained copy: qemu-img convert -O qcow2 IMAGE NEW.qcow2",
        )
    return layer


def _backing_of(image: Path, layer: dict[str, Any]) -> Path:
    """The backing file ``image`` names (relative to its folder), when it is a regular file."""
    recorded = str(layer.get("backing-filename"))
    if recorded.startswith("file:"):
        recorded = recorded.removeprefix("file:")
    elif _PROTOCOL.match(recorded):
        raise ImageError(
            f"{image} is backed by {recorded!r}, which is not a file of this machine; rfconsole does not open it",
            hint="a base is a local qcow2 or raw file: rebase the image onto one (qemu-img rebase)",
        )
    backing = Path(os.path.abspath(recorded if os.path.isabs(recorded) else image.parent / recorded))
    problem = _not_an_image_file(backing)
    if problem:
        raise ImageError(f"{image} is backed by {backing}, which {problem}")
    return backing


def disk_usage(path: Path) -> int:
    """Bytes the file really occupies on the host's disk (allocated blocks, not its length)."""
    return path.stat().st_blocks * 512


def human_size(size: int) -> str:
    """Bytes in binary units, e.g. 196.0 KiB, 8.0 GiB."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def overlay_name_for(image: str | os.PathLike[str]) -> str:
    """The overlay's file name for a VM whose image would be ``image``: h1.img -> h1.qcow2."""
    return Path(image).with_suffix(OVERLAY_SUFFIX).name


# ---------------------------------------------------------------------------- the Images/ folder
class WorkFolder(Protocol):
    """What Images needs of a working folder (rfconsole.store.Workdir, a layer above)."""

    @property
    def root(self) -> Path: ...

    @property
    def images_dir(self) -> Path: ...


class VMFolder(Protocol):
    """What Images needs of XML/ (rfconsole.store.Store, a layer above): each VM's spec, and the
    lock every new overlay is made under."""

    def specs(self) -> dict[str, DomainSpec]: ...

    def locked(self) -> AbstractContextManager[None]: ...


class Images:
    """The Images/ folder of a working folder."""

    def __init__(self, workdir: WorkFolder) -> None:
        self.workdir = workdir
        self.folder = Path(os.path.abspath(workdir.images_dir))

    @property
    def base_dir(self) -> Path:
        return self.folder / BASE_FOLDER

    @property
    def backup_dir(self) -> Path:
        return self.folder / BACKUP_FOLDER

    def make_folders(self, folder: Path) -> None:
        """Make Images/ and, when ``folder`` is one of them, Images/base/ or Images/.backup/, inside
        the working folder, which must exist: rfconsole makes no other folder."""
        wanted = Path(os.path.abspath(folder))
        if wanted not in (self.folder, self.base_dir, self.backup_dir):
            return
        for step in (self.folder, wanted):
            problem = own_folder_problem(step)
            if problem:
                raise ImageError(f"cannot write into {step}: it {problem}")
            try:
                step.mkdir(exist_ok=True)
            except (FileNotFoundError, NotADirectoryError):
                raise ImageError(
                    f"cannot make {step}: the working folder {self.folder.parent} {missing_folder_words(self.folder.parent)}",
                    hint="create it first, or give an existing one with --workdir",
                ) from None
            except OSError as error:
                raise ImageError(f"cannot make {step}: {error.strerror or error}") from None

    # ------------------------------------------------------------------ bases
    def bases(self) -> list[Path]:
        return _regular_files(self.base_dir)

    def base(self, name: str) -> Path:
        """The base called ``name`` (its file name, or the name without suffix), or the path of a
        file inside Images/base/."""
        candidate = Path(name)
        if candidate.is_absolute() or "/" in name:
            path = Path(os.path.abspath(candidate))
            if path.parent == self.base_dir and file_kind(path) == "file":
                return path
            raise ImageError(
                f"{name} is not a registered base (bases live in {self.base_dir})",
                hint=f"register it first: rfconsole image base {name}",
            )
        for path in self.bases():
            if name in (path.name, path.stem):
                return path
        known = ", ".join(path.stem for path in self.bases()) or "none yet"
        raise ImageError(
            f"no base image called {name!r} in {self.base_dir} (bases: {known})",
            hint="register one with `rfconsole image base FILE [--name NAME]`",
        )

    def register_base(self, file: str | os.PathLike[str], name: str | None = None) -> tuple[Path, bool]:
        """Make ``file`` (qcow2 or raw) a base: copied into Images/base/ by ``qemu-img convert``
        (sparse, backing chain flattened) and made read-only. A file already in Images/base/ is
        registered where it is. Returns (the base's path, whether it was copied)."""
        source = Path(os.path.abspath(file))
        info = image_info(source)
        if info.format not in BASE_FORMATS:
            raise ImageError(f"{source} is a {info.format} image; a base must be qcow2 or raw", hint=f"convert it: qemu-img convert -O qcow2 {source} base.qcow2")
        if source.parent == self.base_dir:
            if name not in (None, source.stem, source.name):
                raise ImageError(f"{source} is already the base {source.stem!r}; rename the file to change its name")
            _read_only(source)
            return source, False
        base_name = name or source.stem
        _check_base_name(base_name)
        clashing = [path for path in self.bases() if path.stem == base_name]
        if clashing:
            raise ImageError(
                f"there is already a base called {base_name!r} ({clashing[0]}); not replacing it",
                hint="choose another name with --name (a base that overlays use must never change)",
            )
        target = self.base_dir / f"{base_name}{BASE_SUFFIX[info.format]}"
        self.make_folders(self.base_dir)
        self.sweep_leftovers()
        with _temporary_beside(target) as temporary:
            qemu_img("convert", "-U", "-O", info.format, str(source), str(temporary), doing=f"copy {source} into {self.base_dir}")
            # the copy holds every file of the chain: nobody may read it who could not read them all
            os.chmod(temporary, _narrowest_mode(info.chain))
            try:
                os.link(temporary, target)  # never over a file that appeared meanwhile
            except FileExistsError:
                raise ImageError(f"{target} appeared while copying; not replacing it") from None
        return target, True

    def outside(self, info: ImageInfo) -> list[Path]:
        """The files of ``info``'s chain below the image itself that lie outside the working
        folder: what reading (or copying) the image reads besides the folder's own files."""
        root = Path(os.path.realpath(self.workdir.root))
        return [file for file in info.chain[1:] if not Path(os.path.realpath(file)).is_relative_to(root)]

    def reset_refusal(self, overlay: Path) -> str | None:
        """Why ``reset`` may not replace ``overlay`` by an empty overlay of its base (dropping what
        the VM wrote), as words; None when it may: a qcow2 file in this working folder's Images/
        (not in Images/base/), backed directly by a registered base of Images/base/. Any other
        image with a backing file holds data rfconsole did not make: never reset."""
        try:
            info = image_info(overlay)
        except ImageError as error:
            return error.message
        real = Path(os.path.realpath(info.path))
        if real.parent != Path(os.path.realpath(self.folder)):
            return f"{info.path} is not in this working folder's Images/ ({self.folder}); rfconsole resets only the overlays it made there"
        if info.format != "qcow2" or info.backing is None:
            return f"{info.path} is not a qcow2 overlay of a base"
        if Path(os.path.realpath(info.backing)).parent != Path(os.path.realpath(self.base_dir)):
            return f"{info.path} is backed by {info.backing}, which is not a registered base in {self.base_dir}"
        return None

    def leftovers(self) -> list[Path]:
        """Temporary files in Images/ and Images/base/ whose writer is gone (an image command
        killed mid-copy): a live writer holds a lock on its temporary file."""
        found = []
        for folder in (self.folder, self.base_dir):
            if file_kind(folder) != "folder":
                continue
            for name in sorted(os.listdir(folder)):
                path = folder / name
                if name.startswith(".") and name.endswith(LEFTOVER_SUFFIX) and file_kind(path) == "file" and _stale(path):
                    found.append(path)
        return found

    def sweep_leftovers(self) -> list[Path]:
        """Remove ``leftovers()``; the paths removed."""
        removed = []
        for path in self.leftovers():
            _unlink_quietly(path)
            removed.append(path)
        return removed

    def delete_base(self, name: str, store: VMFolder | None = None) -> Path:
        """Delete a base nothing uses: no overlay in Images/ backed by it, no VM in XML/ on it.
        With ``store``, under XML/'s lock (``store.locked()``), which every new overlay and the
        XML using it are made under: an overlay of this base made meanwhile is seen, never left
        pointing at a deleted base."""
        with store.locked() if store is not None else nullcontext():
            return self._delete_unused_base(name, store)

    def _delete_unused_base(self, name: str, store: VMFolder | None) -> Path:
        path = self.base(name)
        users = self.users_of(path, store)
        overlays = [str(info.path.name) for info in self._infos(self._image_files()) if info is not None and info.path != path and path in info.chain]
        if users or overlays:
            what = []
            if users:
                what.append("VM " + ", ".join(users))
            if overlays:
                what.append("overlay " + ", ".join(overlays))
            raise ImageError(
                f"refusing to delete base {path.stem!r}: it is in use by {' and '.join(what)}",
                hint="a base in use is never deleted: remove or re-base what uses it first",
            )
        path.unlink()
        return path

    # ------------------------------------------------------------------ overlays
    def overlay_path(self, file_name: str) -> Path:
        return self.folder / file_name

    def check_overlay_target(self, target: Path, force: bool = False) -> None:
        """Refuse (before anything is written) an overlay that would replace a file, unless forced."""
        target = Path(os.path.abspath(target))
        kind = file_kind(target)
        if kind == "folder":
            raise ImageError(f"{target} is a folder, not an image file")
        if kind is not None and not force:
            raise ImageError(
                f"{target} already exists; not creating an overlay over it",
                hint="use --force to replace it (the old file is kept in Images/.backup/)",
                console_hint="choose another name for the VM, or move that file away first",
            )
        base_dir = self.base_dir.resolve()
        if target.parent.resolve() == base_dir:
            raise ImageError(f"{target} is inside {self.base_dir}: overlays go in Images/, bases in Images/base/")

    def create_overlay(self, base: str | os.PathLike[str], target: str | os.PathLike[str], force: bool = False) -> tuple[Path, Path | None]:
        """A new qcow2 overlay at ``target`` backed by ``base`` (a base name or path): the base's
        format recorded, its path relative to the overlay's folder. An existing ``target`` is
        replaced only with ``force``, after being moved to Images/.backup/. Returns (overlay, backup)."""
        target = Path(os.path.abspath(target))
        base_path = self.base(str(base)) if not isinstance(base, Path) else Path(os.path.abspath(base))
        self.check_overlay_target(target, force)
        base_info = image_info(base_path)
        relative = os.path.relpath(base_path, target.parent)
        self.make_folders(target.parent)
        self.sweep_leftovers()
        backup = None
        with self._new_overlay_file(target, relative, base_info.format) as temporary:
            if target.exists():
                backup = self._backup(target)
            try:
                os.link(temporary, target)
            except FileExistsError:
                raise ImageError(f"{target} appeared meanwhile; not replacing it") from None
        return target, backup

    def fresh_overlay(self, overlay: str | os.PathLike[str]) -> Path:
        return fresh_overlay(overlay)

    @staticmethod
    @contextmanager
    def _new_overlay_file(target: Path, backing: str, backing_format: str, size: int | None = None) -> Iterator[Path]:
        """An overlay in a temporary file beside ``target`` (so the relative backing path holds),
        removed on the way out unless moved into place."""
        with _temporary_beside(target) as temporary:
            arguments = ["create", "-q", "-f", "qcow2", "-F", backing_format, "-b", backing, str(temporary)]
            if size is not None:
                arguments.append(str(size))
            # qemu-img opens a relative backing file from the overlay's folder
            qemu_img(*arguments, doing=f"create the overlay {target.name} over {backing}")
            os.chmod(temporary, 0o644)
            yield temporary

    def _backup(self, path: Path) -> Path:
        problem = own_folder_problem(self.backup_dir)
        if problem:
            raise ImageError(f"cannot keep a backup in {self.backup_dir}: it {problem}; nothing was changed", hint="remove it, then try again")
        try:
            self.backup_dir.mkdir(exist_ok=True)  # in Images/, which holds the file backed up
        except OSError as error:
            raise ImageError(f"cannot keep a backup in {self.backup_dir}: {error.strerror or error}; nothing was changed") from None
        backup = self.backup_path(path)
        _move_keeping_backing(path, backup)
        return backup

    def backup_path(self, path: Path) -> Path:
        """Where an image replaced now is kept: Images/.backup/<stem>.<UTC time><suffix>."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        return self.backup_dir / f"{path.stem}.{stamp}{path.suffix}"

    def backup_problem(self) -> str | None:
        """Why Images/.backup/ cannot take a backup (a link, not a folder), as words; None when it can."""
        problem = own_folder_problem(self.backup_dir)
        return f"cannot keep a backup in {self.backup_dir}: it {problem}" if problem else None

    # ------------------------------------------------------------------ listing
    def _image_files(self) -> list[Path]:
        return sorted(_regular_files(self.folder) + _regular_files(self.base_dir))

    @staticmethod
    def _infos(paths: Iterable[Path]) -> list[ImageInfo | None]:
        infos: list[ImageInfo | None] = []
        for path in paths:
            try:
                infos.append(image_info(path))
            except ImageError:
                infos.append(None)
        return infos

    def vm_chains(self, store: VMFolder | None) -> dict[str, tuple[Path, ...]]:
        """VM name -> the files its disk reads (its image, then the image's backing chain)."""
        chains: dict[str, tuple[Path, ...]] = {}
        if store is None:
            return chains
        for name, spec in store.specs().items():
            image = spec.image
            if image is None or not Path(image).is_file():
                continue
            try:
                chains[name] = image_info(image).chain
            except ImageError:
                chains[name] = (Path(os.path.abspath(image)),)
        return chains

    def users_of(self, path: Path, store: VMFolder | None, chains: dict[str, tuple[Path, ...]] | None = None) -> list[str]:
        chains = self.vm_chains(store) if chains is None else chains
        wanted = Path(os.path.abspath(path))
        return sorted(name for name, chain in chains.items() if wanted in chain)

    def listing(self, store: VMFolder | None = None) -> list[ImageRow]:
        """Every image file of Images/ and Images/base/ with its chain, size and users, then the
        leftovers of killed image commands (hidden temporary files, often a base's full size)."""
        chains = self.vm_chains(store)
        rows = []
        for path in self._image_files():
            notes = []
            try:
                info = image_info(path)
                problem = None
                notes = [f"reads {file}, outside the working folder" for file in self.outside(info)]
            except ImageError as error:
                info, problem = None, error.message
            rows.append(ImageRow(info, path, path.parent == self.base_dir, self.users_of(path, store, chains), problem, notes))
        for path in self.leftovers():
            size = disk_usage(path)
            rows.append(ImageRow(None, path, path.parent == self.base_dir, problem=f"left by an image command that was killed ({human_size(size)})", leftover=True))
        return rows


def fresh_overlay(overlay: str | os.PathLike[str]) -> Path:
    """Replace an overlay by an empty one over the same base, the same recorded backing path and
    format (what its VM wrote is dropped, internal snapshots with it). The caller makes sure no
    guest has it open. A symbolic link is followed: the file it names is replaced, not the link."""
    overlay = Path(os.path.realpath(overlay))
    info = image_info(overlay)
    if info.backing is None or info.format != "qcow2":
        raise ImageError(f"{overlay} is not a qcow2 overlay of a base: there is nothing to reset it to")
    recorded = info.backing_text or os.path.relpath(info.backing, overlay.parent)
    backing_format = info.backing_format or image_info(info.backing).format
    with Images._new_overlay_file(overlay, recorded, backing_format, size=info.virtual_size) as temporary:
        os.replace(temporary, overlay)
    return overlay


@contextmanager
def _temporary_beside(target: Path) -> Iterator[Path]:
    """An empty temporary file in ``target``'s folder (made when missing), to be linked or renamed
    into place; removed on the way out if still there. Its writer holds a lock on it meanwhile, so
    a temporary file nobody holds is a leftover of a writer that was killed (``Images.leftovers``)."""
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=LEFTOVER_SUFFIX, dir=target.parent)
    except (FileNotFoundError, NotADirectoryError):
        raise ImageError(
            f"cannot write {target}: the folder {target.parent} {missing_folder_words(target.parent)}",
            hint="rfconsole makes Images/ and Images/base/ in an existing working folder, and no other folder",
        ) from None
    except OSError as error:
        raise ImageError(f"cannot write into {target.parent}: {error.strerror or error}") from None
    temporary = Path(name)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield temporary
    finally:
        _unlink_quietly(temporary)
        os.close(handle)


def _stale(path: Path) -> bool:
    """Whether ``path``, a temporary file of ``_temporary_beside``, was left by a writer that is
    gone: no lock held on it (a live writer holds one from the moment after it is made, hence
    the few seconds' grace)."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False  # gone, or not ours to judge
    try:
        if time.time() - os.fstat(handle).st_ctime < LEFTOVER_GRACE_SECONDS:
            return False
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(handle)


def _narrowest_mode(files: Iterable[Path]) -> int:
    """Read-only permission bits no wider than any of ``files``' (a copy of all of them)."""
    mode = 0o444
    for file in files:
        try:
            mode &= stat.S_IMODE(os.stat(file).st_mode)
        except OSError:
            pass
    return mode | 0o400  # its owner reads it


def _check_base_name(name: str) -> None:
    if not name or name.startswith(".") or "/" in name or any(c in name for c in "\n\r\t\x00") or len(name) > 128:
        raise ImageError(f"{name!r} cannot name a base: use letters, digits, '_', '.' and '-', not starting with '.'")


def _read_only(path: Path) -> None:
    os.chmod(path, 0o444)


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _move_keeping_backing(source: Path, target: Path) -> None:
    """Rename an image; a relative backing path recorded in it is rewritten for its new folder."""
    info = image_info(source)
    os.rename(source, target)
    if info.backing is None or info.backing_text is None or os.path.isabs(info.backing_text):
        return
    relative = os.path.relpath(info.backing, target.parent)
    if relative == info.backing_text:
        return
    arguments = ["rebase", "-u", "-b", relative]
    if info.backing_format:
        arguments += ["-F", info.backing_format]
    qemu_img(*arguments, str(target), doing=f"keep {target.name} pointing at its base {info.backing}")


def _regular_files(folder: Path) -> list[Path]:
    """The regular files of ``folder`` not starting with '.'; none when it cannot be listed."""
    if file_kind(folder) != "folder":
        return []
    try:
        names = os.listdir(folder)
    except OSError as error:
        raise ImageError(f"cannot list {folder}: {error.strerror or error}") from None
    return sorted(folder / name for name in names if not name.startswith(".") and file_kind(folder / name) == "file")
