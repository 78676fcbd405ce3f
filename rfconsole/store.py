"""The working folder: XML/ holds one domain XML per VM, Images/ their OS images.

Saves are atomic (a temporary file in the same folder, fsync, rename: never a half-written
file), never replace a file unless asked, and keep a copy of what they replace in
XML/.backup/. VM names and rfconsole ids are unique across XML/.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

from rfconsole.errors import RfconsoleError
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.errors import InvalidSpec, Problem
from rfconsole.model.spec import DomainSpec, missing_files

BACKUP_FOLDER = ".backup"


class StoreError(RfconsoleError):
    """A problem with the XML/ folder: a clash of names or ids, a file that would be replaced."""


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
        if self.document is None:
            return None
        try:
            return self.document.spec()
        except InvalidSpec as error:
            self._spec_error = error
            return None

    @property
    def problem(self) -> RfconsoleError | None:
        """Why this file is not usable as it is: unreadable XML or settings that break a rule."""
        if self.error is not None:
            return self.error
        self.spec  # noqa: B018 - fills _spec_error
        return self._spec_error

    @property
    def ok(self) -> bool:
        return self.problem is None


class Store:
    """The XML/ folder of a Workdir."""

    def __init__(self, workdir: Workdir | str | os.PathLike[str]) -> None:
        self.workdir = workdir if isinstance(workdir, Workdir) else Workdir(workdir)

    @property
    def xml_dir(self) -> Path:
        return self.workdir.xml_dir

    # ------------------------------------------------------------- listing and loading
    def paths(self) -> list[Path]:
        if not self.xml_dir.is_dir():
            return []
        return sorted(
            path for path in self.xml_dir.iterdir() if path.suffix == ".xml" and not path.name.startswith(".") and path.is_file()
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
        if default.is_file():
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
            if not candidate.is_absolute() and not candidate.exists() and (self.xml_dir / candidate).exists():
                candidate = self.xml_dir / candidate
            return DomainDocument.read(candidate)
        path = self.find(text)
        if path is None:
            raise StoreError(
                f"no VM named {text!r} in {self.xml_dir}",
                hint=f"create one with `rfconsole xml new --name {text} …`, or give the path of its XML file",
            )
        return DomainDocument.read(path)

    def specs(self) -> dict[str, DomainSpec]:
        """Every valid VM of the folder by name (files that break a rule are left out)."""
        return {entry.name: entry.spec for entry in self.entries() if entry.spec is not None}

    def suggest_id(self) -> int:
        """The next free rfconsole id: one more than the highest in use."""
        ids = [entry.rfconsole_id for entry in self.entries() if entry.rfconsole_id is not None]
        return max(ids, default=0) + 1

    def missing_files(self, name_or_path: str | os.PathLike[str]) -> list[Problem]:
        """Host files the VM needs that are missing (image, kernel, initrd): starting it must be refused."""
        return missing_files(self.load(name_or_path).spec())

    # ------------------------------------------------------------- saving
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

    def save(self, document: DomainDocument, path: str | os.PathLike[str] | None = None, overwrite: bool = False) -> Path:
        """Write ``document`` atomically to ``path`` (default XML/<name>.xml) and return the path.

        Refuses to replace an existing file unless ``overwrite``; then the old file is copied to
        XML/.backup/<stem>.<UTC time>.xml first. Inside XML/, the name and id must be unique.
        """
        target = self.check_save(document, path, overwrite)
        if target.exists():
            self._backup(target)
        _atomic_write(target, document.to_bytes())
        return target

    def check_save(self, document: DomainDocument, path: str | os.PathLike[str] | None = None, overwrite: bool = False) -> Path:
        """Every refusal ``save`` would make, without writing anything; the target path."""
        if path is None:
            if not document.name:
                raise StoreError("the domain has no <name>, so it has no default file name", hint="give a file with -o")
            target = self.path_for(document.name)
        else:
            target = Path(path)
        target = Path(os.path.abspath(target))
        if self._in_xml_dir(target):
            clashes = self.clashes(document, target)
            if clashes:
                raise StoreError(
                    f"cannot save {target.name}: " + "; ".join(clashes),
                    hint="names and ids must be unique in XML/: choose another (rfconsole suggests the next free id)",
                )
        if target.is_dir():
            raise StoreError(f"{target} is a folder, not a file")
        if target.exists():
            if not overwrite:
                raise StoreError(
                    f"{target} already exists; not replacing it",
                    hint="use --force to replace it (the old file is kept in XML/.backup/)",
                )
        return target

    def _in_xml_dir(self, path: Path) -> bool:
        """Whether ``path`` names a file of XML/, however it is spelled (``..``, symbolic links)."""
        return path.parent.resolve() == self.xml_dir.resolve()

    def _backup(self, path: Path) -> Path:
        backups = self.workdir.backup_dir if self._in_xml_dir(path) else path.parent / BACKUP_FOLDER
        backups.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        backup = backups / f"{path.stem}.{stamp}.xml"
        _atomic_write(backup, path.read_bytes())
        return backup

    def backups(self, name: str) -> list[Path]:
        """The backups kept of XML/<name>.xml, oldest first."""
        folder = self.workdir.backup_dir
        return sorted(folder.glob(f"{name}.*.xml")) if folder.is_dir() else []


def _atomic_write(path: Path, data: bytes) -> None:
    """Write data to path through a temporary file in the same folder and a rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise StoreError(f"cannot write into {path.parent}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        else:
            os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise StoreError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError:
        pass  # some file systems cannot fsync a folder; the rename itself is atomic
