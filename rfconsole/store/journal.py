"""The journal of an operation on several files (rfconsole/transaction.py): what it will write and
how to undo each step, recorded in XML/.rfconsole.journal before its first step. Only the store
(which finishes or rolls back what a killed process left) and the transaction import it
(pyproject.toml's protected contract): no face writes or reads a journal itself."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rfconsole.model.errors import XMLInputError
from rfconsole.model.rftest2 import MAX_CSV_BYTES
from rfconsole.model.safexml import MAX_XML_BYTES, read_regular_file
from rfconsole.store._files import (
    file_version,
    lexists,
    replace,
    sweep_temporary_files,
    sync_folder,
    unlink_quietly,
)

JOURNAL_FILE = ".rfconsole.journal"
JOURNAL_MAX_BYTES = 64 * 1024 * 1024  # an old CSV (16 MiB) and an old XML (1 MiB), as base64


@dataclass
class FileUndo:
    """One file an operation writes whole (a VM's XML, RouteFlow's CSV): what it held before
    (None: no file) and the version of what the operation writes. Rolled back only if it still
    holds exactly that: a file someone changed since is never touched."""

    path: Path
    before: bytes | None
    written: str  # file_version of the bytes the operation writes

    def roll_back(self) -> None:
        try:
            now, status = read_regular_file(self.path, limit=max(MAX_CSV_BYTES, MAX_XML_BYTES), what="a file")
        except XMLInputError:
            return  # not there (never written), or not a file rfconsole wrote: left as it is
        if file_version(now) != self.written:
            return  # not written yet, or changed by someone else since: left as it is
        if self.before is None:
            unlink_quietly(self.path)
            sync_folder(self.path.parent)
        else:
            replace(self.path, self.before, like=status)

    def to_json(self) -> dict[str, Any]:
        import base64

        return {"path": str(self.path), "before": None if self.before is None else base64.b64encode(self.before).decode(), "written": self.written}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileUndo:
        import base64

        before = data["before"]
        return cls(Path(data["path"]), None if before is None else base64.b64decode(before), str(data["written"]))


@dataclass
class OverlayUndo:
    """A VM's new overlay at ``target``, made first at ``staged`` (a hidden file beside it), then
    renamed over ``target``; an old file there is first linked to ``kept`` (same folder, so its
    relative backing path holds) and, once the operation commits, moved to ``backup`` with its
    backing path (``kept_backing``, ``kept_backing_format``) rewritten for that folder."""

    target: Path
    staged: Path
    kept: Path | None = None
    backup: Path | None = None
    kept_backing: Path | None = None
    kept_backing_format: str | None = None

    def _sweep(self) -> None:
        """The staged overlay and qemu-img's temporary file for it (``.<staged>.XXXX.tmp``)."""
        unlink_quietly(self.staged)
        sweep_temporary_files(self.staged.parent, prefix=f".{self.staged.name}.")

    def roll_back(self) -> None:
        self._sweep()
        if self.kept is not None:
            if lexists(self.kept):
                if lexists(self.target) and os.path.samefile(self.kept, self.target):
                    os.unlink(self.kept)  # not replaced yet (rename between two names of one file does nothing)
                else:
                    os.replace(self.kept, self.target)  # the old overlay back, as it was
        else:
            unlink_quietly(self.target)  # there was none: checked under the lock before
        sync_folder(self.target.parent)

    def finish(self) -> None:
        """Every step idempotent: a process killed in here is finished again by the next one."""
        self._sweep()
        if self.kept is None or self.backup is None or not lexists(self.kept):
            return
        if self.kept_backing is not None:
            from rfconsole.images.qemu_img import (
                qemu_img,  # only when an old overlay is kept
            )

            arguments = ["rebase", "-u", "-b", os.path.relpath(self.kept_backing, self.backup.parent)]
            if self.kept_backing_format:
                arguments += ["-F", self.kept_backing_format]
            qemu_img(*arguments, str(self.kept), doing=f"keep {self.backup.name} pointing at its base {self.kept_backing}")
        self.backup.parent.mkdir(parents=True, exist_ok=True)
        os.rename(self.kept, self.backup)
        sync_folder(self.target.parent)
        sync_folder(self.backup.parent)

    def to_json(self) -> dict[str, Any]:
        return {key: None if value is None else str(value) for key, value in vars(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OverlayUndo:
        def path(key: str) -> Path | None:
            return None if data.get(key) is None else Path(data[key])

        return cls(Path(data["target"]), Path(data["staged"]), path("kept"), path("backup"), path("kept_backing"),
                   data.get("kept_backing_format"))


@dataclass
class Intent:
    """What an operation on several files will write and how to undo each step (journal)."""

    operation: str  # in words, for messages: "xml new rfvmE"
    pid: int = field(default_factory=os.getpid)
    files: list[FileUndo] = field(default_factory=list)  # in the order written
    overlay: OverlayUndo | None = None  # made before the files
    committed: bool = False

    def to_json(self) -> str:
        import json

        return json.dumps(
            {
                "operation": self.operation,
                "pid": self.pid,
                "committed": self.committed,
                "overlay": self.overlay.to_json() if self.overlay else None,
                "files": [undo.to_json() for undo in self.files],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Intent:
        import json

        data = json.loads(text)
        overlay = data["overlay"]
        return cls(
            operation=str(data["operation"]),
            pid=int(data["pid"]),
            files=[FileUndo.from_json(item) for item in data["files"]],
            overlay=OverlayUndo.from_json(overlay) if overlay else None,
            committed=bool(data["committed"]),
        )
