"""How rfconsole writes a file of the working folder: whole or not at all (a temporary file
beside it, fsync, rename, the folder synced), never through a link it was not asked to follow,
never over anything but a regular file; and XML/'s lock. The store's own machinery: only
rfconsole.store's modules import it (pyproject.toml's private-modules contract)."""

from __future__ import annotations

import fcntl
import os
import stat
import time
from pathlib import Path

from rfconsole.errors import RfconsoleError
from rfconsole.model.errors import XMLInputError
from rfconsole.model.safexml import MAX_XML_BYTES, read_regular_file
from rfconsole.model.text import file_kind, file_type_words, missing_folder_words

LOCK_FILE = ".rfconsole.lock"
LOCK_WAIT_SECONDS = 30.0
TEMPORARY_SUFFIX = ".tmp"


class StoreError(RfconsoleError):
    """A problem with the XML/ folder: a clash of names or ids, a file that would be replaced."""


def sweep_temporary_files(folder: Path, prefix: str = ".") -> None:
    """Remove the temporary files (``.NAME.XXXX.tmp``) killed writers left in ``folder``. Call
    under XML/'s lock: every writer of these files holds it, so none is in use."""
    if file_kind(folder) != "folder":
        return
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.startswith(".") and name.endswith(TEMPORARY_SUFFIX) and file_kind(folder / name) == "file":
            unlink_quietly(folder / name)


def unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def file_version(data: bytes) -> str:
    """What a file held, as a short fingerprint (SHA-256): equal versions, equal bytes."""
    import hashlib  # here, not at the top: reading a document (`xml show`) never hashes it

    return hashlib.sha256(data).hexdigest()


def acquire_folder_lock(folder: Path, file: str = LOCK_FILE, wait: float = LOCK_WAIT_SECONDS, holding: str = "saving there") -> int:
    """An open descriptor of ``folder``/``file`` holding its exclusive flock (released when the
    descriptor is closed, or when the process dies: never a stale lock)."""
    lock_path = folder / file
    try:
        folder.mkdir(exist_ok=True)  # XML/ itself, in a working folder that must exist
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except (FileNotFoundError, NotADirectoryError):
        raise StoreError(
            f"cannot write into {folder}: the working folder {folder.parent} {missing_folder_words(folder.parent)}",
            hint="create it first, or give an existing one with --workdir (rfconsole makes only XML/ and Images/ inside it)",
        ) from None
    except OSError as error:
        raise StoreError(f"cannot lock {folder} for writing ({lock_path}: {error.strerror or error})") from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise StoreError(f"{lock_path} is not a regular file; rfconsole locks XML/ with it", hint="remove it")
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return descriptor
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"{folder} stays locked by another rfconsole ({lock_path}) after {wait:g} s",
                        hint=f"another console or command is {holding}; try again when it is done",
                    ) from None
                time.sleep(0.005)  # flock has no timeout: poll (a save holds it for milliseconds)
    except BaseException:
        os.close(descriptor)
        raise


def lexists(path: Path) -> bool:
    try:
        os.lstat(path)
        return True
    except (OSError, ValueError):
        return False


def real_path(path: Path) -> Path:
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError):
        return path


def existing_file(
    target: Path,
    limit: int = MAX_XML_BYTES,
    what: str = "a domain XML",
    elsewhere: str = "write to a file of your own with -o FILE, or '-' to print the XML",
    through_link: bool = False,
) -> tuple[Path, tuple[bytes, os.stat_result] | None]:
    """Where a save to ``target`` writes (a symbolic link's final target, with ``through_link``)
    and, when a file is there, its bytes and status (``what``, at most ``limit`` bytes). Anything
    but a regular file (folder, device, FIFO, socket, a link to nothing) is refused, ``elsewhere``
    saying what to do instead: rfconsole replaces regular files only. A link the user did not name
    (``through_link`` False) is refused: a file of XML/ may be a link to anything."""
    try:
        link = stat.S_ISLNK(os.lstat(target).st_mode)
    except FileNotFoundError:
        return target, None
    except NotADirectoryError:
        raise StoreError(f"cannot write {target}: the folder {target.parent} {missing_folder_words(target.parent)}") from None
    except OSError as error:
        raise StoreError(f"cannot write {target}: {error.strerror or error}") from None
    real = real_path(target) if link else target
    if link and not through_link:
        raise StoreError(
            f"{target} is a symbolic link to {real}; rfconsole writes through a link only when you name the link itself",
            hint="name the file on the command line (rfconsole xml set PATH …, -o PATH) to write through it, or remove the link",
        )
    try:
        status = os.stat(real)
    except FileNotFoundError:
        raise StoreError(
            f"{target} is a symbolic link to {real}, which does not exist; not writing through it",
            hint="remove the link, or create its target first",
        ) from None
    except OSError as error:
        raise StoreError(f"cannot write {target}: {error.strerror or error}") from None
    if not stat.S_ISREG(status.st_mode):
        through = f" (a link to {real})" if link else ""
        raise StoreError(
            f"{target}{through} is {file_type_words(status.st_mode)}, not a regular file; rfconsole replaces only regular files",
            hint=elsewhere,
        )
    try:
        current = read_regular_file(real, limit=limit, what=what)
    except XMLInputError as error:
        raise StoreError(f"not replacing {target}: {error.message}", hint=f"only {what} file is ever replaced") from None
    return real, current


def temporary_beside(path: Path) -> tuple[int, str]:
    try:
        import tempfile  # here, not at the top: only a save writes a temporary file

        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except (FileNotFoundError, NotADirectoryError):
        raise StoreError(
            f"cannot write {path}: the folder {path.parent} {missing_folder_words(path.parent)}",
            hint="create it first: rfconsole makes no folders but XML/ and Images/ in the working folder",
        ) from None
    except OSError as error:
        raise StoreError(f"cannot write into {path.parent}: {error.strerror or error}") from None


def fill(handle: int, temporary: str, data: bytes, like: os.stat_result | None) -> None:
    """Write ``data`` into the temporary file, durably, with the mode and owner of ``like``
    (0644 and the caller's when there is none)."""
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
        stream.flush()
        if like is not None:
            try:
                os.fchown(stream.fileno(), like.st_uid, like.st_gid)
            except PermissionError:
                pass  # not root: the file stays the writer's, as any editor would leave it
            os.fchmod(stream.fileno(), stat.S_IMODE(like.st_mode))
        else:
            os.fchmod(stream.fileno(), 0o644)
        os.fsync(stream.fileno())


def discard(temporary: str) -> None:
    try:
        os.unlink(temporary)
    except OSError:
        pass


def write_new(path: Path, data: bytes, like: os.stat_result | None = None) -> None:
    """Create ``path`` holding ``data``, whole or not at all, and never over a file that is
    there: a temporary file is linked to the name (link fails if the name exists)."""
    handle, temporary = temporary_beside(path)
    try:
        fill(handle, temporary, data, like)
        os.link(temporary, path)
    except FileExistsError:
        raise StoreError(
            f"{path} appeared while rfconsole was writing it (another rfconsole or an editor); not replacing it",
            hint="nothing was written: look at the file, then try again (with --force to replace it)",
            console_hint="nothing was written: look at the file (x on the table), then save again",
        ) from None
    except OSError as error:
        raise StoreError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        discard(temporary)
    sync_folder(path.parent)


def replace(path: Path, data: bytes, like: os.stat_result) -> None:
    """Replace the regular file ``path`` by rename from a temporary file in its folder."""
    handle, temporary = temporary_beside(path)
    try:
        fill(handle, temporary, data, like)
        os.replace(temporary, path)
    except OSError as error:
        discard(temporary)
        raise StoreError(f"cannot write {path}: {error.strerror or error}") from None
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError:
        pass  # some file systems cannot fsync a folder; the rename itself is atomic
