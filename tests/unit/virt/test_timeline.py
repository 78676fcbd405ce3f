"""The event timeline file (virt/timeline.py) and `rfconsole events` on real files and processes."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from rfconsole.virt.timeline import FILE_NAME, Timeline, TimelineEntry, TimelineNote


def _write_many(root: str, writer: int, count: int, max_bytes: int) -> None:
    timeline = Timeline(root, max_bytes=max_bytes)
    for number in range(count):
        timeline.record("operation", f"vm{writer}", f"event {number}", host="local", padding="x" * 200)


def test_several_processes_lose_no_line_across_rotations(tmp_path):
    writers, count, max_bytes = 4, 150, 64 << 10  # ~400 KB in all: several rotations of 64 KiB, within the 3 kept
    processes = [multiprocessing.get_context("fork").Process(target=_write_many, args=(str(tmp_path), w, count, max_bytes)) for w in range(writers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    assert (tmp_path / f"{FILE_NAME}.1").exists()  # it did rotate
    entries, notes = Timeline(tmp_path, max_bytes=max_bytes).read()
    assert notes == []  # no torn or interleaved line
    by_writer = {f"vm{w}": [e.what for e in entries if e.subject == f"vm{w}"] for w in range(writers)}
    for what in by_writer.values():
        assert what == [f"event {n}" for n in range(count)]  # every line, in each writer's order


def test_torn_foreign_and_binary_lines_are_skipped_with_a_note(tmp_path):
    timeline = Timeline(tmp_path)
    timeline.record("switch", "0000000000000005", "up")
    with open(timeline.path, "ab") as file:
        file.write(b'{"time": 1, "kind": "switch", "sub\n')  # torn, then another writer's newline
        file.write(b"hello from another program\n")
        file.write(b"\xff\xfe\n")
        file.write(b'{"time": "yesterday", "kind": "x", "subject": "a", "what": "b"}\n')
        file.write(b"[1, 2]\n")
    timeline.record("boot", "rfvmA", "started")
    with open(timeline.path, "ab") as file:
        file.write(b'{"time": 5, "kind": "bo')  # a writer killed mid-line, last in the file
    entries, notes = timeline.read()
    assert [(e.kind, e.subject) for e in entries] == [("switch", "0000000000000005"), ("boot", "rfvmA")]
    assert [note.line for note in notes] == [2, 3, 4, 5, 6, 8]
    assert "unfinished line" in str(notes[-1]) and "not UTF-8" in str(notes[2])


def test_no_write_through_a_link_and_no_exception(tmp_path, caplog):
    target = tmp_path / "elsewhere"
    target.write_text("")
    (tmp_path / FILE_NAME).symlink_to(target)
    Timeline(tmp_path).record("operation", "rfvmA", "reset")  # logged, not raised
    assert target.read_text() == ""
    assert "symbolic link" in caplog.text
    entries, notes = Timeline(tmp_path).read()
    assert entries == [] and notes and "cannot be read" in notes[0].problem


def test_a_domain_event_seen_by_two_processes_shows_once(tmp_path):
    path = tmp_path / FILE_NAME
    lines = [
        TimelineEntry(100.0, "domain", "rfvmA", "started (booted)", "local", pid=1),
        TimelineEntry(100.2, "domain", "rfvmA", "started (booted)", "local", pid=2),  # the console saw it too
        TimelineEntry(100.5, "operation", "rfvmA", "reset: running", "local", pid=1),
        TimelineEntry(160.0, "domain", "rfvmA", "started (booted)", "local", pid=2),  # a later start
    ]
    path.write_text("".join(json.dumps(entry.to_json()) + "\n" for entry in lines))
    entries, _ = Timeline(tmp_path).read()
    assert [(e.time, e.pid) for e in entries] == [(100.0, 1), (100.5, 1), (160.0, 2)]
    assert [e.time for e in Timeline(tmp_path).read(since=150.0)[0]] == [160.0]


def test_follow_sees_new_events_and_a_rotation(tmp_path):
    timeline = Timeline(tmp_path, max_bytes=2000)
    timeline.record("watch", "127.0.0.1:6633", "watching")
    stop = threading.Event()
    seen: list[TimelineEntry | TimelineNote] = []
    reader = threading.Thread(target=lambda: seen.extend(timeline.follow(stop=stop.is_set, poll=0.01)))
    reader.start()
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:  # following (else a slow start finds the first file rotated away)
        time.sleep(0.01)
    for number in range(40):  # ~7 KB: rotates three times while followed
        timeline.record("switch", f"{number:016x}", "up", padding="y" * 60)
    deadline = time.monotonic() + 5
    while sum(isinstance(i, TimelineEntry) for i in seen) < 41 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    reader.join(5)
    subjects = [i.subject for i in seen if isinstance(i, TimelineEntry)]
    assert subjects == ["127.0.0.1:6633", *(f"{n:016x}" for n in range(40))]


def test_follow_reads_the_files_rotated_while_there_is_no_current_file(tmp_path):
    """Each event longer than max_bytes: every write rotates, so events.jsonl is never there
    between writes; each new event is only ever in events.jsonl.1 (a follower used to wait for
    the current file and miss them)."""
    timeline = Timeline(tmp_path, max_bytes=300)
    timeline.record("switch", "a", "up", padding="z" * 400)
    stop = threading.Event()
    seen: list[TimelineEntry | TimelineNote] = []
    reader = threading.Thread(target=lambda: seen.extend(timeline.follow(stop=stop.is_set, poll=0.01)))
    reader.start()
    try:
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        timeline.record("switch", "b", "up", padding="z" * 400)
        while len(seen) < 2 and time.monotonic() < deadline:  # b read (from .1, no current file) before c rotates it away
            time.sleep(0.01)
        timeline.record("switch", "c", "up", padding="z" * 400)
        assert not timeline.path.exists()
        while len(seen) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        reader.join(5)
    assert [item.subject for item in seen if isinstance(item, TimelineEntry)] == ["a", "b", "c"], seen


def _rfconsole(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rfconsole", "--workdir", str(workdir), "events", *args],
                          capture_output=True, text=True, timeout=30, check=False)


def test_events_command_prints_json_text_and_since(tmp_path):
    timeline = Timeline(tmp_path)
    timeline.record("operation", "rfvmA", "snapshot: created clean", host="local", when=time.time() - 3600)
    timeline.record("boot", "rfvmB", "started for switch 0000000000000006", host="local", latency_s=1.25)
    with open(timeline.path, "ab") as file:
        file.write(b"garbage\n")
    done = _rfconsole(tmp_path, "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["subject"] for row in rows] == ["rfvmA", "rfvmB"] and rows[1]["data"]["latency_s"] == 1.25
    assert f"{FILE_NAME} line 3: not a JSON event" in done.stderr and "Traceback" not in done.stderr
    recent = _rfconsole(tmp_path, "--since", "10m")
    assert recent.returncode == 0 and "rfvmB" in recent.stdout and "rfvmA" not in recent.stdout
    wrong = _rfconsole(tmp_path, "--since", "last tuesday")
    assert wrong.returncode == 2 and "is not a time: give how long ago" in wrong.stderr


def test_operations_through_the_fleet_are_recorded_with_their_host(tmp_path):
    from rfconsole.store import Store
    from rfconsole.virt.fleet import Fleet

    (tmp_path / "XML").mkdir()
    fleet = Fleet(None, Store(tmp_path), connect="test:///default")
    try:
        fleet.undefine("test", force=True)  # the test driver's own domain, saved to XML/ first
        try:
            fleet.reset("nosuchvm")
        except Exception:  # noqa: BLE001 - the refusal is what is recorded
            pass
    finally:
        fleet.close()
    entries, notes = Timeline(tmp_path).read()
    assert notes == []
    assert [(e.kind, e.subject, e.host, e.what.split(":")[0]) for e in entries] == [
        ("operation", "test", "test:///default", "undefine"),
        ("operation", "nosuchvm", None, "reset failed"),
    ]
    assert os.getpid() in {e.pid for e in entries}


def test_lifecycle_operations_are_recorded_once_each_with_their_host(tmp_path, foreign_uri):
    """define/start/shutdown/destroy (and up/down, which run them) through the Fleet: the
    outermost operation only (down's own shutdown is down's)."""
    from rfconsole.store import Store
    from rfconsole.virt.fleet import Fleet

    (tmp_path / "XML").mkdir()
    fleet = Fleet(None, Store(tmp_path), connect=foreign_uri)
    try:
        fleet.destroy("test", force=True)
        fleet.start("test")
        fleet.down("test", force=True, timeout=5)
        fleet.up("test")
        fleet.shutdown("test", timeout=5)
        try:
            fleet.destroy("test", force=True)  # shut off already: refused, and recorded so
        except Exception:  # noqa: BLE001 - the refusal is what is recorded
            pass
    finally:
        fleet.close()
    entries, notes = Timeline(tmp_path).read()
    assert notes == []
    assert [(e.subject, e.host, e.data["action"], e.what.split(":")[0]) for e in entries] == [
        ("test", foreign_uri, "destroy", "destroy"),
        ("test", foreign_uri, "start", "start"),
        ("test", foreign_uri, "down", "down"),
        ("test", foreign_uri, "up", "up"),
        ("test", foreign_uri, "shutdown", "shutdown"),
        ("test", None, "destroy", "destroy failed"),  # the refusal names no host of its own
    ]
    assert entries[3].what == f"up: started, running on host {foreign_uri}"


def test_a_read_only_session_records_nothing(tmp_path, foreign_uri):
    from rfconsole.store import Store
    from rfconsole.virt.fleet import Fleet

    (tmp_path / "XML").mkdir()
    fleet = Fleet(None, Store(tmp_path), connect=foreign_uri, read_only=True)
    try:
        assert fleet.timeline is None
        fleet.record_lifecycle_events()
        for operation in (lambda: fleet.destroy("test", force=True), lambda: fleet.undefine("test", force=True),
                          lambda: fleet.plan_migration("test", "nohost")):
            try:
                operation()
            except Exception:  # noqa: BLE001 - each is refused: read-only
                pass
    finally:
        fleet.close()
    done = subprocess.run([sys.executable, "-m", "rfconsole", "--workdir", str(tmp_path), "--connect", foreign_uri,
                           "--read-only", "destroy", "test", "--force"], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["XML", "foreign_node.xml"]  # no events.jsonl, no lock file


def test_a_refused_migration_is_recorded_with_its_hosts(tmp_path, foreign_uri):
    from rfconsole.store import Store
    from rfconsole.virt.fleet import Fleet

    (tmp_path / "XML").mkdir()
    fleet = Fleet(None, Store(tmp_path), connect=foreign_uri)
    try:
        for target in ("elsewhere", foreign_uri):
            try:
                fleet.plan_migration("test", target)
            except Exception:  # noqa: BLE001 - the refusal is what is recorded
                pass
    finally:
        fleet.close()
    entries, _ = Timeline(tmp_path).read()
    assert [(e.subject, e.host, e.data["target"], e.data["action"]) for e in entries] == [
        ("test", foreign_uri, "elsewhere", "migrate"), ("test", foreign_uri, foreign_uri, "migrate")]
    assert entries[0].what.startswith("migrate to host elsewhere refused: no host named 'elsewhere'")
    assert entries[1].what == f"migrate to host {foreign_uri} refused: test is already on host {foreign_uri} ({foreign_uri})"


_HOLDER = """
import sys, time
from rfconsole.virt.events import DomainEvent, EventKind
from rfconsole.virt.timeline import LifecycleRecorder, Timeline
recorder = LifecycleRecorder(Timeline(sys.argv[1]), {"local": "qemu:///system"})
recorder(DomainEvent("local", "rfvmA", EventKind.STARTED, "booted"))
print("recorded", flush=True)
sys.stdin.read()  # holds the role until its stdin closes
"""


def test_one_process_records_a_hosts_events_and_another_takes_over_when_it_stops(tmp_path):
    """The console and `watch` both listening to one host: each event written once, by the holder
    of the host's recorder role; when it stops, the other records from its next event on."""
    from rfconsole.virt.events import DomainEvent, EventKind, HostEvent
    from rfconsole.virt.timeline import LifecycleRecorder

    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "recorded\n"
        ours = LifecycleRecorder(Timeline(tmp_path), {"local": "qemu:///system", "other": "test:///default"})
        ours(DomainEvent("local", "rfvmA", EventKind.STARTED, "booted"))  # the holder's to record: not written again
        ours(DomainEvent("other", "rfvmB", EventKind.STARTED, "booted"))  # another host: ours
        assert not ours.holds("qemu:///system") and ours.holds("test:///default")
    finally:
        holder.communicate("", timeout=10)
    ours(DomainEvent("local", "rfvmA", EventKind.STOPPED, "destroyed"))  # the holder stopped: ours now
    ours(HostEvent("local", "qemu:///system", False, "connection lost"))
    ours.close()
    ours(DomainEvent("other", "rfvmB", EventKind.STOPPED, "destroyed"))  # closed: records nothing more
    entries, notes = Timeline(tmp_path).read()
    assert notes == []
    assert [(e.subject, e.what, e.pid == holder.pid) for e in entries] == [
        ("rfvmA", "started (booted)", True), ("rfvmB", "started (booted)", False),
        ("rfvmA", "stopped (destroyed)", False), ("local", "disconnected: connection lost", False)]
    raw = Timeline(tmp_path).path.read_text().splitlines()
    assert len(raw) == 4  # written once each, not only shown once


def test_a_recorder_whose_host_went_away_gives_its_role_to_one_that_still_sees_it(tmp_path):
    """Losing the host's connection, the holder would keep the role while seeing none of its
    events: it gives the role up, and another recorder (an flock of its own) takes it."""
    from rfconsole.virt.events import DomainEvent, EventKind, HostEvent
    from rfconsole.virt.timeline import LifecycleRecorder

    first = LifecycleRecorder(Timeline(tmp_path), {"local": "qemu:///system"})
    second = LifecycleRecorder(Timeline(tmp_path), {"local": "qemu:///system"})
    try:
        first(DomainEvent("local", "rfvmA", EventKind.STARTED, "booted"))
        assert not second.holds("qemu:///system")
        first(HostEvent("local", "qemu:///system", False, "connection lost"))
        second(DomainEvent("local", "rfvmA", EventKind.STOPPED, "destroyed"))  # seen by the one still connected
        assert second.holds("qemu:///system") and not first.holds("qemu:///system")
    finally:
        first.close()
        second.close()
    entries, _ = Timeline(tmp_path).read()
    assert [(e.subject, e.what) for e in entries] == [
        ("rfvmA", "started (booted)"), ("local", "disconnected: connection lost"), ("rfvmA", "stopped (destroyed)")]


def test_the_recorder_role_follows_no_link(tmp_path, caplog):
    """A link planted where a host's recorder lock goes: nothing is created or written through it;
    the event is recorded anyway (the role cannot be coordinated), with one warning."""
    from rfconsole.virt.events import DomainEvent, EventKind
    from rfconsole.virt.timeline import LifecycleRecorder

    recorder = LifecycleRecorder(Timeline(tmp_path), {"local": "qemu:///system"})
    target = tmp_path / "elsewhere" / "planted"
    target.parent.mkdir()
    recorder.lock_path("qemu:///system").symlink_to(target)
    recorder(DomainEvent("local", "rfvmA", EventKind.STARTED, "booted"))
    recorder(DomainEvent("local", "rfvmA", EventKind.STOPPED, "destroyed"))
    recorder.close()
    assert not target.exists()
    assert [e.what for e in Timeline(tmp_path).read()[0]] == ["started (booted)", "stopped (destroyed)"]
    assert caplog.text.count("cannot take the recorder role") == 1 and "symbolic link" in caplog.text
