"""The lab's event timeline: one file of JSON lines in the working folder, next to XML/.

Every process of a folder writes to it at once (the console, ``rfconsole watch``, CLI commands):
each event is one whole line written with one ``write`` on a descriptor opened with O_APPEND,
so lines never interleave; the file is rotated (``events.jsonl`` → ``.1`` → ``.2`` → ``.3``)
under an flock of ``.events.lock`` once it passes ``MAX_BYTES``. A writer that cannot write
logs a warning and carries on: the timeline never stops an operation. Nothing is written
through a link or into anything but a regular file.

Reading is generous: a torn line (a writer killed mid-write), a line of another program or of
a newer rfconsole is skipped with a note, never a traceback. Domain and host events are
recorded by every process that listens to libvirt, so the same event seen by two processes
within ``SAME_EVENT_SECONDS`` is shown once.

    timeline = Timeline(workdir.root)
    timeline.record("switch", "0000000000000005", "up from 127.0.0.1:40000 (OpenFlow 1.3)", vms=["rfvmA"])
    entries, notes = timeline.read(since=time.time() - 600)
    for item in timeline.follow(stop): ...     # TimelineEntry or TimelineNote, as they come
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import math
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rfconsole.virt.events import DomainEvent, HostEvent

log = logging.getLogger("rfconsole.timeline")

FILE_NAME = "events.jsonl"
LOCK_NAME = ".events.lock"
RECORDER_LOCK = ".events.recorder.{}.lock"  # the recorder role of one host URI (LifecycleRecorder)
MAX_BYTES = 1 << 20  # rotate past this
KEEP = 3  # rotated files kept: events.jsonl.1 … .3
MAX_LINE_BYTES = 64 << 10  # a longer line is not one of ours
SAME_EVENT_SECONDS = 2.0
KINDS = ("domain", "host", "switch", "boot", "operation", "watch")
SHARED_KINDS = frozenset({"domain", "host"})  # what several processes may each record


@dataclass(frozen=True)
class TimelineEntry:
    """One event: when (time.time()), what kind (``KINDS``), on which host (None: not a host's,
    as a switch), about what (a domain, a datapath id), in words, and what else is known."""

    time: float
    kind: str
    subject: str
    what: str
    host: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    pid: int = 0

    def when_words(self) -> str:
        """The local date and time to the millisecond, as `rfconsole events` and the console show it."""
        return datetime.fromtimestamp(self.time).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]

    def to_json(self) -> dict[str, Any]:
        return {"time": round(self.time, 6), "kind": self.kind, "host": self.host, "subject": self.subject,
                "what": self.what, "pid": self.pid, **({"data": self.data} if self.data else {})}

    @classmethod
    def from_json(cls, value: object) -> TimelineEntry | None:
        """The entry a decoded line holds, None when it is not one of ours."""
        if not isinstance(value, dict):
            return None
        when, kind, subject, what = value.get("time"), value.get("kind"), value.get("subject"), value.get("what")
        host, data, pid = value.get("host"), value.get("data", {}), value.get("pid", 0)
        if not isinstance(when, int | float) or isinstance(when, bool) or not math.isfinite(when):
            return None
        if not (isinstance(kind, str) and isinstance(subject, str) and isinstance(what, str)):
            return None
        if not (host is None or isinstance(host, str)) or not isinstance(data, dict):
            return None
        return cls(float(when), kind, subject, what, host, data, pid if isinstance(pid, int) and not isinstance(pid, bool) else 0)


@dataclass(frozen=True)
class TimelineNote:
    """Why something in the files was skipped: which file, which line, what was wrong."""

    file: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.problem}, skipped"


class Timeline:
    """The timeline file of the working folder ``root``."""

    def __init__(self, root: str | os.PathLike[str], max_bytes: int = MAX_BYTES) -> None:
        self.root = Path(root)
        self.path = self.root / FILE_NAME
        self.max_bytes = max_bytes
        self._warned = False
        self._warn_lock = threading.Lock()

    def files(self) -> list[Path]:
        """The files, oldest first: the rotated ones, then the current one."""
        return [self.path.with_name(f"{FILE_NAME}.{number}") for number in range(KEEP, 0, -1)] + [self.path]

    # ------------------------------------------------------------------ writing
    def record(self, kind: str, subject: str, what: str, host: str | None = None, when: float | None = None, **data: Any) -> None:
        """Append one event; a failure is logged (once per Timeline), never raised."""
        entry = TimelineEntry(time.time() if when is None else when, kind, subject, what, host, data, os.getpid())
        line = (json.dumps(entry.to_json(), ensure_ascii=False, default=str) + "\n").encode("utf-8", "replace")
        try:
            size = self._append(line)
            if size > self.max_bytes:
                self._rotate()
        except OSError as error:
            self._warn(f"cannot write the event timeline {self.path}: {_os_words(error)}")

    def _append(self, line: bytes) -> int:
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise OSError(errno.EINVAL, "not a regular file")
            written = os.write(descriptor, line)  # one write: O_APPEND keeps lines of several processes whole
            if written != len(line):
                raise OSError(errno.EIO, f"only {written} of {len(line)} bytes written")
            return os.fstat(descriptor).st_size
        finally:
            os.close(descriptor)

    def _rotate(self) -> None:
        lock = os.open(self.root / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = os.lstat(self.path)
            except FileNotFoundError:
                return
            if not stat.S_ISREG(current.st_mode) or current.st_size <= self.max_bytes:
                return  # another process rotated it meanwhile
            files = self.files()  # .3 .2 .1 current: each moves one older, the oldest is replaced
            for older, newer in zip(files, files[1:], strict=False):
                if os.path.lexists(newer):
                    os.rename(newer, older)
        finally:
            os.close(lock)  # releases the flock

    def _warn(self, message: str) -> None:
        with self._warn_lock:
            if self._warned:
                return
            self._warned = True
        log.warning("%s (events are not recorded)", message)

    # ------------------------------------------------------------------ reading
    def read(self, since: float | None = None) -> tuple[list[TimelineEntry], list[TimelineNote]]:
        """Every event at or after ``since`` (time.time()), oldest first, and what was skipped."""
        entries: list[TimelineEntry] = []
        notes: list[TimelineNote] = []
        seen = _SameEvents()
        for path in self.files():
            data, problem = _read_regular(path)
            if problem is not None:
                notes.append(TimelineNote(path.name, 0, problem))
            if not data:
                continue
            for number, line in enumerate(data.split(b"\n"), start=1):
                if not line:
                    continue
                entry = _parse_line(line, path.name, number, notes, torn=not data.endswith(b"\n") and number == data.count(b"\n") + 1)
                if entry is not None and (since is None or entry.time >= since) and seen.first(entry):
                    entries.append(entry)
        entries.sort(key=lambda entry: entry.time)
        return entries, notes

    def follow(self, since: float | None = None, stop: Callable[[], bool] = lambda: False,
               poll: float = 0.1) -> Iterator[TimelineEntry | TimelineNote]:
        """What ``read(since)`` gives, then every event as it is written, until ``stop()``; a
        rotation is followed (the rest of the old file first, then the files rotated since)."""
        for batch in self.follow_batches(since, stop, poll):
            yield from batch

    def follow_batches(self, since: float | None = None, stop: Callable[[], bool] = lambda: False,
                       poll: float = 0.1) -> Iterator[list[TimelineEntry | TimelineNote]]:
        """``follow`` a look at a time: each list holds what was new at one look: the whole history
        at the first (empty when nothing is recorded yet, so a screen can say so), never empty
        after; for a screen that shows a batch at once."""
        seen = _SameEvents()
        tail = _Tail(self.path)
        first = True
        try:
            while not stop():
                lines = tail.new_lines()
                batch: list[TimelineEntry | TimelineNote] = []
                for file, number, line in lines:
                    skipped: list[TimelineNote] = []
                    entry = _parse_line(line, file, number, skipped, torn=False)
                    batch += skipped
                    if entry is not None and (since is None or entry.time >= since) and seen.first(entry):
                        batch.append(entry)
                if batch or first:
                    yield batch
                first = False
                if not lines:
                    time.sleep(poll)
        finally:
            tail.close()


class _SameEvents:
    """Whether an entry is the first of its event: a domain or host event recorded by another
    process within SAME_EVENT_SECONDS of one already seen is the same event."""

    def __init__(self) -> None:
        self._recent: dict[tuple[str, str | None, str, str], tuple[float, int]] = {}

    def first(self, entry: TimelineEntry) -> bool:
        if entry.kind not in SHARED_KINDS:
            return True
        key = (entry.kind, entry.host, entry.subject, entry.what)
        before = self._recent.get(key)
        self._recent[key] = (entry.time, entry.pid)
        return before is None or before[1] == entry.pid or abs(entry.time - before[0]) > SAME_EVENT_SECONDS


class _Tail:
    """Every line of the files, oldest first, then the current file's as it grows, following
    its rotations. The current file is opened before the rotated ones are read, so nothing
    written meanwhile is missed; a rotated file is read whole once (known by its inode), and is
    checked to be the file it was a moment ago, so a rotation while reading loses no file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rotated = [path.with_name(f"{FILE_NAME}.{number}") for number in range(KEEP, 0, -1)]  # oldest first
        self.descriptor: int | None = None
        self.inode: int | None = None
        self.pending = b""
        self.line = 0
        self.done: set[int] = set()  # inodes of the rotated files read whole

    def _open(self) -> bool:
        try:
            descriptor = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return False
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            os.close(descriptor)
            return False
        self.descriptor, self.inode, self.pending, self.line = descriptor, status.st_ino, b"", 0
        return True

    def _unread_rotated(self, until: int | None) -> list[tuple[str, int, bytes]]:
        """The rotated files not read yet, oldest first, each whole; only those older than the
        file of inode ``until`` (the one open now) when it is among them."""
        lines: list[tuple[str, int, bytes]] = []
        while True:
            present = [(path, _inode(path)) for path in self.rotated]
            self.done &= {inode for _path, inode in present if inode is not None}  # a deleted file's inode may be reused
            unread = next(((path, inode) for path, inode in present if inode is not None and inode not in self.done), None)
            if unread is None or unread[1] == until:
                return lines
            path, inode = unread
            data = _read_if_still(path, inode)
            if data is None:
                continue  # rotated again meanwhile: look again
            self.done.add(inode)
            lines += [(path.name, number, line) for number, line in enumerate(data.split(b"\n"), start=1) if line]

    def new_lines(self) -> list[tuple[str, int, bytes]]:
        lines: list[tuple[str, int, bytes]] = []
        if self.descriptor is not None:
            lines += self._take(_read_all(self.descriptor))
            if _inode(self.path) != self.inode:  # rotated: another file is current, or none yet (the last write rotated it)
                lines += self._take(_read_all(self.descriptor))
                if self.inode is not None:
                    self.done.add(self.inode)
                self.close()
        if self.descriptor is None:
            opened = self._open()
            lines += self._unread_rotated(until=self.inode if opened else None)
            if opened and self.descriptor is not None:
                lines += self._take(_read_all(self.descriptor))
        return lines

    def _take(self, data: bytes) -> list[tuple[str, int, bytes]]:
        data = self.pending + data
        *whole, self.pending = data.split(b"\n")
        numbered = []
        for line in whole:
            self.line += 1
            if line:
                numbered.append((self.path.name, self.line, line))
        return numbered

    def close(self) -> None:
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None
        self.inode = None


def _read_if_still(path: Path, inode: int) -> bytes | None:
    """The bytes of ``path`` when it still is the file of ``inode`` (b"" when it cannot be read:
    nothing to show of it); None when it is not there or another file is (rotated meanwhile)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return b"" if _inode(path) == inode else None
    try:
        status = os.fstat(descriptor)
        if status.st_ino != inode:
            return None
        if not stat.S_ISREG(status.st_mode):
            return b""
        if status.st_size > 4 * MAX_BYTES:  # someone else's huge file: its end only, as read() does
            os.lseek(descriptor, status.st_size - 4 * MAX_BYTES, os.SEEK_SET)
            data = _read_all(descriptor)
            return data[data.find(b"\n") + 1:]
        return _read_all(descriptor)
    finally:
        os.close(descriptor)


def _inode(path: Path) -> int | None:
    try:
        return os.lstat(path).st_ino
    except OSError:
        return None


def _read_all(descriptor: int) -> bytes:
    chunks = []
    while chunk := os.read(descriptor, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _read_regular(path: Path) -> tuple[bytes, str | None]:
    """The file's bytes (b"" when it is not there), and why it was not read when it was not."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return b"", None
    except OSError as error:
        return b"", f"cannot be read ({_os_words(error)})"
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            return b"", "not a regular file"
        if status.st_size > 4 * MAX_BYTES:
            os.lseek(descriptor, status.st_size - 4 * MAX_BYTES, os.SEEK_SET)  # someone else's huge file: its end only
            data = _read_all(descriptor)
            return data[data.find(b"\n") + 1:], f"larger than {4 * MAX_BYTES >> 20} MiB, only its end was read"
        return _read_all(descriptor), None
    finally:
        os.close(descriptor)


def _parse_line(line: bytes, file: str, number: int, notes: list[TimelineNote], torn: bool) -> TimelineEntry | None:
    if torn:
        notes.append(TimelineNote(file, number, "an unfinished line (a writer stopped mid-line)"))
        return None
    if len(line) > MAX_LINE_BYTES:
        notes.append(TimelineNote(file, number, f"a line longer than {MAX_LINE_BYTES >> 10} KiB"))
        return None
    try:
        value = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        notes.append(TimelineNote(file, number, "not UTF-8 text"))
        return None
    except (ValueError, RecursionError):
        notes.append(TimelineNote(file, number, "not a JSON event (a torn or foreign line)"))
        return None
    entry = TimelineEntry.from_json(value)
    if entry is None:
        notes.append(TimelineNote(file, number, "JSON, but not an event of rfconsole's"))
    return entry


def _os_words(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "it is a symbolic link (rfconsole writes no file through a link)"
    return error.strerror or str(error)



def record_virt_event(timeline: Timeline, event: DomainEvent | HostEvent) -> None:
    """A Fleet subscriber's event (virt/events.py) on the timeline, at the time it was seen."""
    if isinstance(event, DomainEvent):
        timeline.record("domain", event.domain, f"{event.kind} ({event.detail})", host=event.host, when=event.time)
    else:
        words = "connected" if event.connected else "disconnected"
        timeline.record("host", event.host, f"{words}: {event.reason}" if event.reason else words, host=event.host, when=event.time)


class LifecycleRecorder:
    """A Fleet subscriber that records libvirt's lifecycle events (domain and host events) on the
    timeline, each host's once however many processes of the folder listen to that host.

    Who records: the process that holds the *recorder role* of the host's URI, an flock of
    ``.events.recorder.<hash of the URI>.lock`` in the working folder. Every listening process
    (``rfconsole watch``, the console) tries to take the role at each event of that host; the first
    takes it and keeps it until it stops (the kernel releases the flock, also when the process is
    killed); the others record nothing of that host meanwhile and take the role at their next event
    after it. Operations (define, start, snapshot …) are not events: the process that does one
    always records it. When the role cannot be coordinated (the lock file cannot be opened), the
    event is recorded anyway: readers show an event recorded by two processes once."""

    def __init__(self, timeline: Timeline, uris: Mapping[str, str]) -> None:
        """``uris``: host name → URI of the hosts whose events come to this recorder."""
        self.timeline = timeline
        self.uris = dict(uris)
        self._descriptors: dict[str, int] = {}  # URI → its lock file, open while this recorder lives
        self._held: set[str] = set()
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        self._closed = False

    def __call__(self, event: DomainEvent | HostEvent) -> None:
        uri = event.uri if isinstance(event, HostEvent) else self.uris.get(event.host)
        if uri is None or self.holds(uri):
            record_virt_event(self.timeline, event)
        if uri is not None and isinstance(event, HostEvent) and not event.connected:
            self.give_up(uri)  # it sees none of the host's events now: another process that does takes the role

    def give_up(self, uri: str) -> None:
        """No longer the recorder of ``uri`` (until this process's next event of that host)."""
        with self._lock:
            descriptor = self._descriptors.get(uri)
            if uri in self._held and descriptor is not None:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
            self._held.discard(uri)

    def lock_path(self, uri: str) -> Path:
        return self.timeline.root / RECORDER_LOCK.format(hashlib.sha256(uri.encode("utf-8", "replace")).hexdigest()[:16])

    def holds(self, uri: str) -> bool:
        """Whether this recorder holds (or has just taken) the recorder role of ``uri``."""
        with self._lock:
            if self._closed:
                return False
            if uri in self._held:
                return True
            descriptor = self._descriptors.get(uri)
            try:
                if descriptor is None:
                    descriptor = _open_lock(self.lock_path(uri))
                    self._descriptors[uri] = descriptor
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # another process records this host's events
            except OSError as error:
                if uri not in self._warned:
                    self._warned.add(uri)
                    log.warning("cannot take the recorder role in %s: %s (this process records the host's events anyway)",
                                self.lock_path(uri), _os_words(error))
                return True
            self._held.add(uri)
            return True

    def close(self) -> None:
        """Gives up every role (another process takes it at its next event); records nothing more."""
        with self._lock:
            self._closed = True
            for descriptor in self._descriptors.values():
                os.close(descriptor)  # releases the flock
            self._descriptors.clear()
            self._held.clear()


def _open_lock(path: Path) -> int:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise OSError(errno.EINVAL, "not a regular file")
    return descriptor
