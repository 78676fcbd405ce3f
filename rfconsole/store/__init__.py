"""The working folder: XML/ holds one domain XML per VM, Images/ their OS images.

Saves are atomic (a temporary file in the same folder, fsync, rename: never a half-written
file), never replace a file unless asked, and keep a copy of what they replace in
XML/.backup/ with its mode and owner. VM names and rfconsole ids are unique across XML/.

Several rfconsole processes (consoles, CLI commands) may share one folder: every save into XML/
runs under an flock of XML/.rfconsole.lock, a new file is created exclusively, and a file that
changed since it was read is never overwritten (the save is refused, naming it). Only regular
files are read or written; a symbolic link is written through only when the user named it (a
path on the command line), never one found in XML/.

An operation that writes several files (a new VM's overlay, its XML, RouteFlow's CSV:
rfconsole/transaction.py) first records under the lock how to undo each step (an ``Intent`` in
XML/.rfconsole.journal). A process killed half-way leaves that record, and the next one that takes
the lock rolls it back (or, past the commit, finishes it) before doing anything else, and removes
the temporary files killed writers left in XML/.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rfconsole.errors import RfconsoleError
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.errors import InvalidSpec, Problem, XMLInputError
from rfconsole.model.rftest2 import MAX_CSV_BYTES, RouteflowRow, add_routeflow_rows
from rfconsole.model.safexml import (
    MAX_XML_BYTES,
    read_regular_file,
    read_untrusted_file,
)
from rfconsole.model.text import (
    file_kind,
    missing_folder_words,
    own_folder_problem,
)
from rfconsole.store import (
    _files,  # the file machinery: used as _files.NAME, never re-exported
)
from rfconsole.store._files import (
    StoreError as StoreError,  # the store's words for its callers
)
from rfconsole.store._files import file_version as file_version
from rfconsole.store.journal import JOURNAL_FILE, JOURNAL_MAX_BYTES, FileUndo, Intent

if TYPE_CHECKING:
    from rfconsole.model.spec import DomainSpec

BACKUP_FOLDER = ".backup"
CSV_ELSEWHERE = "give --routeflow-config the path of RouteFlow's CSV file itself (a regular file)"


VM_LOCK_WAIT_SECONDS = 600.0  # a reset or redeploy holds its VM for as long as its guest takes to start


class Workdir:
    """The folder rfconsole works in (the seed's rftest/): XML/, Images/ and rfconsole.toml."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(os.path.abspath(root))  # '..' folded, so paths into XML/ compare equal

    @property
    def xml_dir(self) -> Path:
        return self.root / "XML"

    @property
    def images_dir(self) -> Path:
        return self.root / "Images"

    @property
    def config_path(self) -> Path:
        return self.root / "rfconsole.toml"

    @property
    def backup_dir(self) -> Path:
        return self.xml_dir / BACKUP_FOLDER

    def image(self, file_name: str) -> Path:
        """The absolute path of an image in Images/ (it need not exist yet)."""
        return self.images_dir / file_name

    def shown(self, path: str | os.PathLike[str]) -> str:
        """A path as the faces show it: relative to the working folder when inside it."""
        path = Path(path)
        for root in (self.root, self.root.resolve()):
            if path.is_relative_to(root):
                return str(path.relative_to(root))
        return str(path)

    def __repr__(self) -> str:
        return f"Workdir({str(self.root)!r})"


@dataclass
class StoreEntry:
    """One file of XML/: its document when it parses, else the error saying why not."""

    path: Path
    document: DomainDocument | None = None
    error: RfconsoleError | None = None
    _spec_error: RfconsoleError | None = field(default=None, init=False, repr=False)

    @property
    def name(self) -> str:
        """The domain's name, or the file's stem when the file cannot be read."""
        if self.document is not None and self.document.name:
            return self.document.name
        return self.path.stem

    @property
    def rfconsole_id(self) -> int | None:
        return self.document.rfconsole_id if self.document is not None else None

    @cached_property
    def spec(self) -> DomainSpec | None:
        """The file as a DomainSpec, or None when it breaks a rule (see ``problem``)."""
        if self.settings is None or self.document is None:
            return None
        return self.document.spec()

    @cached_property
    def settings(self) -> dict[str, Any] | None:
        """What ``spec`` holds, as ``DomainDocument.settings()`` reads it without pydantic (for
        what only lists or shows the folder), or None when it breaks a rule (see ``problem``)."""
        if self.document is None:
            return None
        try:
            return self.document.settings()
        except InvalidSpec as error:
            self._spec_error = error
            return None

    @property
    def problem(self) -> RfconsoleError | None:
        """Why this file is not usable as it is: unreadable XML or settings that break a rule."""
        if self.error is not None:
            return self.error
        self.settings  # noqa: B018 - fills _spec_error
        return self._spec_error

    @property
    def ok(self) -> bool:
        return self.problem is None


class Store:
    """The XML/ folder of a Workdir."""

    def __init__(self, workdir: Workdir | str | os.PathLike[str]) -> None:
        self.workdir = workdir if isinstance(workdir, Workdir) else Workdir(workdir)
        self._thread_lock = threading.RLock()
        self._lock_depth = 0
        self._vm_locks_held = threading.local()  # .names: the VMs whose lock this thread holds
        # document -> (the real path it was read from, what it held: hashed only when saving)
        self._versions_read: weakref.WeakKeyDictionary[DomainDocument, tuple[Path, bytes]] = weakref.WeakKeyDictionary()

    @property
    def xml_dir(self) -> Path:
        return self.workdir.xml_dir

    # ------------------------------------------------------------- listing and loading
    def paths(self) -> list[Path]:
        """The regular *.xml files of XML/ (none when there is no such folder)."""
        if file_kind(self.xml_dir) != "folder":
            return []
        try:
            names = os.listdir(self.xml_dir)
        except OSError as error:
            raise StoreError(f"cannot list {self.xml_dir}: {error.strerror or error}") from None
        return sorted(
            self.xml_dir / name for name in names if name.endswith(".xml") and not name.startswith(".") and file_kind(self.xml_dir / name) == "file"
        )

    def entries(self) -> list[StoreEntry]:
        """Every XML file of the folder; a broken one is listed with its error, never raised."""
        return [self._entry(path) for path in self.paths()]

    def _entry(self, path: Path) -> StoreEntry:
        try:
            return StoreEntry(path, document=DomainDocument.read(path))
        except RfconsoleError as error:
            return StoreEntry(path, error=error)

    def path_for(self, name: str) -> Path:
        """Where a VM named ``name`` is saved by default: XML/<name>.xml."""
        return self.xml_dir / f"{name}.xml"

    def find(self, name: str) -> Path | None:
        """The file of the VM whose domain name is ``name`` (the file name may differ)."""
        default = self.path_for(name)
        if file_kind(default) == "file":
            entry = self._entry(default)
            if entry.document is None or entry.name == name:
                return default
        for entry in self.entries():
            if entry.document is not None and entry.name == name:
                return entry.path
        return None

    def load(self, name_or_path: str | os.PathLike[str]) -> DomainDocument:
        """A VM's document by domain name (looked up in XML/) or by the path of a file."""
        text = str(name_or_path)
        candidate = Path(text)
        if isinstance(name_or_path, Path) or "/" in text or text.endswith(".xml"):
            if not candidate.is_absolute() and not _files.lexists(candidate) and _files.lexists(self.xml_dir / candidate):
                candidate = self.xml_dir / candidate
            return self._read(candidate)
        path = self.find(text)
        if path is None:
            raise StoreError(
                f"no VM named {text!r} in {self.xml_dir}",
                hint=f"create one with `rfconsole xml new --name {text} …`, or give the path of its XML file",
            )
        return self._read(path)

    def _read(self, path: Path) -> DomainDocument:
        """The document of ``path``; remembers what the file held, so that ``save`` can refuse
        to overwrite it when someone else changed it since."""
        data = read_untrusted_file(path)
        document = DomainDocument.parse(data, str(path))
        self._versions_read[document] = (_files.real_path(Path(os.path.abspath(path))), data)
        return document

    def read_file(self, path: str | os.PathLike[str]) -> tuple[bytes, str]:
        """The bytes of a domain XML file and their ``file_version``, for an editor that saves
        the text later with ``save(…, based_on=version)``."""
        data = read_untrusted_file(path)
        return data, file_version(data)

    def specs(self) -> dict[str, DomainSpec]:
        """Every valid VM of the folder by name (files that break a rule are left out)."""
        return {entry.name: entry.spec for entry in self.entries() if entry.spec is not None}

    def settings(self) -> dict[str, dict[str, Any]]:
        """``specs()`` as settings (StoreEntry.settings): read without pydantic."""
        return {entry.name: entry.settings for entry in self.entries() if entry.settings is not None}

    def suggest_id(self, preferred: int | None = None, replacing: str | None = None) -> int:
        """The id for a new VM, by the model's one rule (``choose_id``): ``preferred`` (a preset's
        id) when free, else one more than the highest in use. The file of VM ``replacing`` (about
        to be overwritten) does not count."""
        from rfconsole.model.checks import choose_id

        return choose_id(preferred, (entry.rfconsole_id for entry in self.entries() if replacing is None or entry.name != replacing))

    def missing_files(self, name_or_path: str | os.PathLike[str]) -> list[Problem]:
        """Host files the VM needs that are missing (image, kernel, initrd): starting it must be refused."""
        from rfconsole.model.spec import missing_files  # pydantic: only when asked

        return missing_files(self.load(name_or_path).spec())

    # ------------------------------------------------------------- saving
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold XML/'s lock: no other rfconsole process (console or CLI) and no other thread
        saves into XML/ meanwhile. Reentrant in one thread. Read, decide and write under it:
        an id picked by ``suggest_id`` stays free until the save that uses it."""
        with self._thread_lock:
            if self._lock_depth:
                self._lock_depth += 1
                try:
                    yield
                finally:
                    self._lock_depth -= 1
                return
            descriptor = _files.acquire_folder_lock(self.xml_dir)
            self._lock_depth = 1
            try:
                self._finish_interrupted()
                yield
            finally:
                self._lock_depth = 0
                os.close(descriptor)  # releases the flock

    @contextmanager
    def vm_locked(self, name: str, wait: float = VM_LOCK_WAIT_SECONDS) -> Iterator[None]:
        """Hold VM ``name``'s own lock (a file in XML/) for an operation that changes its domain
        or its disks (up, reset, redeploy, down, define, snapshot revert): another rfconsole process
        or thread doing one of them to the same VM waits for this one to end, then finds the state
        it left. Reentrant in one thread (one operation made of others never waits for itself)."""
        import hashlib

        held: set[str] = self._vm_locks_held.__dict__.setdefault("names", set())
        if name in held:
            yield
            return
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:20]
        descriptor = _files.acquire_folder_lock(self.xml_dir, f".rfconsole-vm-{digest}.lock", wait, f"changing VM {name}")
        held.add(name)
        try:
            yield
        finally:
            held.discard(name)
            os.close(descriptor)

    def clashes(self, document: DomainDocument, path: Path) -> list[str]:
        """Other files of XML/ with the same domain name or rfconsole id as ``document``."""
        target = path.resolve()
        clashes = []
        for entry in self.entries():
            if entry.path.resolve() == target or entry.document is None:
                continue
            if document.name is not None and entry.name == document.name:
                clashes.append(f"{entry.path.name} already holds a VM named {document.name!r}")
            if document.rfconsole_id is not None and entry.rfconsole_id == document.rfconsole_id:
                clashes.append(f"{entry.path.name} ({entry.name}) already has id {document.rfconsole_id}")
        return clashes

    def save(
        self,
        document: DomainDocument,
        path: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        based_on: str | None = None,
        through_link: bool = False,
    ) -> Path:
        """Write ``document`` atomically to ``path`` (default XML/<name>.xml) and return the path.

        A new file is created exclusively (never over one that appeared meanwhile). An existing
        one is replaced only with ``overwrite``, after a copy to XML/.backup/<stem>.<UTC time>.xml,
        keeping its mode and owner, and only if it still holds what the edit began from:
        ``based_on`` (a ``file_version``), or what ``load`` read when the document came from
        there; otherwise StoreError naming the file. A symbolic link is written through (its
        target replaced, in the target's folder) only with ``through_link``: when the user named
        the link itself (a path on the command line); otherwise it is refused. Only regular files
        are read or replaced. Inside XML/ the name and id must be unique; all of it runs under
        XML/'s lock.
        """
        target = self._target(document, path)
        with self.locked() if self._in_xml_dir(target) else nullcontext():
            data, real, current = self._refusals(document, target, overwrite, based_on, through_link)
            if current is None:
                _files.write_new(real, data)
            else:
                self._backup(target, *current)
                _files.replace(real, data, like=current[1])
            self._versions_read[document] = (_files.real_path(real), data)
        return target

    def check_save(
        self,
        document: DomainDocument,
        path: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        based_on: str | None = None,
        through_link: bool = False,
    ) -> Path:
        """Every refusal ``save`` would make, without writing anything; the target path."""
        target = self._target(document, path)
        with self.locked() if self._in_xml_dir(target) else nullcontext():
            self._refusals(document, target, overwrite, based_on, through_link)
        return target

    def _target(self, document: DomainDocument, path: str | os.PathLike[str] | None) -> Path:
        if path is None:
            if not document.name:
                raise StoreError("the domain has no <name>, so it has no default file name", hint="give a file with -o")
            return Path(os.path.abspath(self.path_for(document.name)))
        return Path(os.path.abspath(path))

    def _refusals(
        self, document: DomainDocument, target: Path, overwrite: bool, based_on: str | None, through_link: bool
    ) -> tuple[bytes, Path, tuple[bytes, os.stat_result] | None]:
        """What a save of ``document`` to ``target`` writes, where (a link's target) and what is
        there now; StoreError for every reason not to write. Call under XML/'s lock."""
        data = document.to_bytes()
        if len(data) > MAX_XML_BYTES:
            raise StoreError(
                f"not writing {target}: the XML would be {len(data)} bytes, more than rfconsole reads back "
                f"({MAX_XML_BYTES // 1024} KiB)",
                hint="a domain XML is a few KiB: remove what makes it this big (hundreds of NICs? a huge command line?)",
            )
        if self._in_xml_dir(target):
            clashes = self.clashes(document, target)
            if clashes:
                raise StoreError(
                    f"cannot save {target.name}: " + "; ".join(clashes),
                    hint="names and ids must be unique in XML/: choose another (rfconsole suggests the next free id)",
                )
        real, current = _files.existing_file(target, through_link=through_link)
        if current is not None:
            if not overwrite:
                raise StoreError(
                    f"{target} already exists; not replacing it",
                    hint="use --force to replace it (the old file is kept in .backup/)",
                    console_hint="choose another name, or edit that VM with e on the table",
                )
            expected = based_on
            if expected is None:
                read = self._versions_read.get(document)
                if read is not None and read[0] == _files.real_path(real):
                    expected = file_version(read[1])
            if expected is not None and file_version(current[0]) != expected:
                raise StoreError(
                    f"{target} changed since it was read (another rfconsole or an editor wrote it); not overwriting it",
                    hint="nothing was written: read the file again and redo the change",
                )
        return data, real, current

    def _in_xml_dir(self, path: Path) -> bool:
        """Whether ``path`` names a file of XML/, however it is spelled (``..``, symbolic links)."""
        try:
            return path.parent.resolve() == self.xml_dir.resolve()
        except (OSError, RuntimeError):
            return False

    def _backup(self, path: Path, data: bytes, status: os.stat_result) -> Path:
        backups = self.workdir.backup_dir if self._in_xml_dir(path) else path.parent / BACKUP_FOLDER
        from datetime import (  # only here: a command that saves nothing does not import it
            UTC,
            datetime,
        )

        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        backup = backups / f"{path.stem}.{stamp}.xml"
        problem = own_folder_problem(backups)
        if problem:
            raise StoreError(f"cannot keep a backup in {backups}: it {problem}; nothing was written", hint="remove it, then try again")
        try:
            backups.mkdir(exist_ok=True)  # beside the file it backs up: its parent is there
        except OSError as error:
            raise StoreError(f"cannot keep a backup in {backups}: {error.strerror or error}; nothing was written") from None
        _files.write_new(backup, data, like=status)
        return backup

    # ------------------------------------------------------------- operations on several files
    @property
    def journal_path(self) -> Path:
        return self.xml_dir / JOURNAL_FILE

    def record_intent(self, intent: Intent) -> None:
        """Write ``intent`` (how to undo, or finish, an operation on several files) durably to
        XML/.rfconsole.journal before the operation's first step, and again at its commit.
        Call under ``locked()``."""
        self._require_lock("record an operation's intent")
        data = intent.to_json().encode()
        if _files.lexists(self.journal_path):
            _files.replace(self.journal_path, data, like=os.stat(self.journal_path))
        else:
            _files.write_new(self.journal_path, data)

    def clear_intent(self) -> None:
        """The operation is done (or undone): its record goes."""
        self._require_lock("clear an operation's intent")
        _files.unlink_quietly(self.journal_path)
        _files.sync_folder(self.xml_dir)

    def roll_back(self, intent: Intent) -> None:
        """Undo what was done of ``intent`` (not committed), last step first (a file someone
        else changed since is left as it is)."""
        self._require_lock("roll an operation back")
        for undo in reversed(intent.files):
            undo.roll_back()
        if intent.overlay is not None:
            intent.overlay.roll_back()

    def _require_lock(self, doing: str) -> None:
        if not self._lock_depth:
            raise RuntimeError(f"cannot {doing} without XML/'s lock (Store.locked())")

    def _finish_interrupted(self) -> None:
        """Just after the lock is taken: the temporary files of killed writers go, and an
        operation a killed process left half-done (its journal) is rolled back or finished."""
        for folder in (self.xml_dir, self.workdir.backup_dir):
            _files.sweep_temporary_files(folder)
        if not _files.lexists(self.journal_path):
            return
        try:
            data, _ = read_regular_file(self.journal_path, limit=JOURNAL_MAX_BYTES, what="rfconsole's journal")
            intent = Intent.from_json(data.decode())
        except (XMLInputError, ValueError, KeyError, TypeError) as error:
            raise StoreError(
                f"{self.journal_path} records an operation a killed rfconsole left half-done, but it cannot be read ({error}); nothing was changed",
                hint="look at the files it names, put them right by hand, then remove it",
            ) from None
        for csv in intent.files:
            _files.sweep_temporary_files(csv.path.parent, prefix=f".{csv.path.name}.")
        try:
            if intent.committed:
                if intent.overlay is not None:
                    intent.overlay.finish()
            else:
                self.roll_back(intent)
        except (OSError, RfconsoleError) as error:
            words = getattr(error, "message", None) or getattr(error, "strerror", None) or str(error)
            raise StoreError(
                f"{intent.operation} was interrupted, and putting it right failed: {words} ({self.journal_path} keeps what to do)",
                hint="the next rfconsole command that writes XML/ tries again",
            ) from None
        self.clear_intent()

    # ------------------------------------------------------------- RouteFlow's CSV
    def check_routeflow_rows(self, csv_path: str | os.PathLike[str], rows: list[RouteflowRow]) -> list[RouteflowRow]:
        """Every refusal ``add_routeflow_rows`` would make, nothing written; the rows it would add."""
        with self.locked():
            _, _, added = self._routeflow_update(Path(os.path.abspath(csv_path)), rows)
        return added

    def add_routeflow_rows(self, csv_path: str | os.PathLike[str], rows: list[RouteflowRow]) -> list[RouteflowRow]:
        """Append ``rows`` (``rftest2.routeflow_rows``) to RouteFlow's CSV ``csv_path``, keeping
        every byte already there, and return those that were not there yet. Under XML/'s lock,
        as a save: written whole or not at all (temporary file, fsync, rename, keeping the file's
        mode and owner), a symbolic link written through to its target, a new file created
        exclusively with the header; refused when the file changed while the rows were made, or
        is not RouteFlow's CSV, or maps those ports otherwise."""
        target = Path(os.path.abspath(csv_path))
        with self.locked():
            _files.sweep_temporary_files(target.parent, prefix=f".{target.name}.")
            real, current, added = self._routeflow_update(target, rows)
            if not added:
                return []
            data, _ = add_routeflow_rows(current[0] if current else None, rows, str(target))
            if data is None:  # every row is there already
                return []
            if current is None:
                _files.write_new(real, data)
            else:
                _, now = _files.existing_file(target, MAX_CSV_BYTES, "RouteFlow's CSV", CSV_ELSEWHERE, through_link=True)
                if now is None or now[0] != current[0]:
                    raise StoreError(f"{target} changed while rfconsole was adding rows to it; not overwriting it", hint="nothing was written: try again")
                _files.replace(real, data, like=current[1])
        return added

    def routeflow_csv_intent(self, csv_path: str | os.PathLike[str], rows: list[RouteflowRow]) -> FileUndo | None:
        """How to undo ``add_routeflow_rows(csv_path, rows)``, read before it runs (under the
        lock); None when it would add nothing."""
        target = Path(os.path.abspath(csv_path))
        real, current, added = self._routeflow_update(target, rows)
        if not added:
            return None
        data, _ = add_routeflow_rows(current[0] if current else None, rows, str(target))
        if data is None:
            return None
        return FileUndo(real, current[0] if current else None, file_version(data))

    def save_intent(self, document: DomainDocument, path: str | os.PathLike[str] | None = None, through_link: bool = False) -> FileUndo:
        """How to undo ``save(document, path, …)``, read before it runs (under the lock)."""
        target = self._target(document, path)
        real, current = _files.existing_file(target, through_link=through_link)
        return FileUndo(real, current[0] if current else None, file_version(document.to_bytes()))

    @staticmethod
    def _routeflow_update(target: Path, rows: list[RouteflowRow]) -> tuple[Path, tuple[bytes, os.stat_result] | None, list[RouteflowRow]]:
        if file_kind(target.parent) != "folder":
            raise StoreError(
                f"cannot write {target}: the folder {target.parent} {missing_folder_words(target.parent)}",
                hint="create it first: rfconsole makes no folders but XML/ and Images/ in the working folder",
            )
        real, current = _files.existing_file(target, MAX_CSV_BYTES, "RouteFlow's CSV", CSV_ELSEWHERE, through_link=True)
        _, added = add_routeflow_rows(current[0] if current else None, rows, str(target))
        return real, current, added

    def backups(self, name: str) -> list[Path]:
        """The backups kept of XML/<name>.xml, oldest first."""
        folder = self.workdir.backup_dir
        return sorted(folder.glob(f"{name}.*.xml")) if folder.is_dir() else []
