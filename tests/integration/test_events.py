"""Lifecycle events from the real libvirtd through rfconsole's subscriber API, a libvirtd restart
survived, and a remote (qemu+tcp) URI used like the local one; the working folder's event
timeline (`rfconsole events`) as the console and the CLI write it."""

from __future__ import annotations

import argparse
import asyncio
import json
import os

import pytest

from rfconsole.tui.app import RfconsoleApp
from rfconsole.tui.launch import build_context
from rfconsole.virt.events import DomainEvent, DomainState, EventKind, HostEvent
from tests.integration.test_host_problems import wait_in_app
from tests.integration.test_hosts import two_hosts

from .conftest import (
    QEMU_URI,
    TCP_URI,
    EventRecorder,
    domain_state,
    qemu_spec,
    restart_libvirtd,
    row_state,
    run_cli,
    save_spec,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_libvirt")]


def test_an_event_for_every_transition(workdir, guest, open_fleet):
    save_spec(workdir, qemu_spec("rfit-events", guest))
    fleet = open_fleet(workdir, QEMU_URI)
    recorder = EventRecorder()
    fleet.subscribe(recorder)

    fleet.define("rfit-events")
    recorder.domain_event("rfit-events", "defined")
    fleet.start("rfit-events")
    recorder.domain_event("rfit-events", "started")
    fleet.suspend("rfit-events")
    recorder.domain_event("rfit-events", "suspended")
    assert domain_state(QEMU_URI, "rfit-events") == "paused"
    fleet.resume("rfit-events")
    recorder.domain_event("rfit-events", "resumed")
    fleet.destroy("rfit-events")
    stopped = recorder.domain_event("rfit-events", "stopped")
    fleet.undefine("rfit-events")
    recorder.domain_event("rfit-events", "undefined")

    ours = [event for event in recorder.events if isinstance(event, DomainEvent) and event.domain == "rfit-events"]
    # QEMU adds a 'resumed' before 'started' and a 'shutdown (host)' before 'stopped': the six
    # transitions must appear in order among them, with the details libvirt gives.
    transitions = [
        (EventKind.DEFINED, "added"), (EventKind.STARTED, "booted"), (EventKind.SUSPENDED, "paused"),
        (EventKind.RESUMED, "unpaused"), (EventKind.STOPPED, "destroyed"), (EventKind.UNDEFINED, "removed"),
    ]
    received = iter((event.kind, event.detail) for event in ours)
    assert all(transition in received for transition in transitions), [str(event) for event in ours]
    assert stopped.detail == "destroyed"
    assert {event.host for event in ours} == {fleet.host().name}
    assert all(earlier.time <= later.time for earlier, later in zip(ours, ours[1:]))


def test_libvirtd_restart_survived(workdir, guest, open_fleet):
    """The host reports itself disconnected, reconnects by itself, and events flow again."""
    save_spec(workdir, qemu_spec("rfit-survivor", guest))
    save_spec(workdir, qemu_spec("rfit-after", guest))
    fleet = open_fleet(workdir, QEMU_URI)
    recorder = EventRecorder()
    fleet.subscribe(recorder)
    fleet.up("rfit-survivor")
    fleet.define("rfit-after")
    host = fleet.host()
    assert host.connected

    restart_libvirtd()

    lost = recorder.wait_for(lambda e: isinstance(e, HostEvent) and not e.connected, "disconnected host event", 30)
    back = recorder.wait_for(lambda e: isinstance(e, HostEvent) and e.connected, "reconnected host event", 60)
    assert lost.host == back.host == host.name and lost.time <= back.time
    assert host.connected
    assert [state.connected for state in fleet.host_states()] == [True]

    # The guest kept running through the restart, and the new connection delivers events.
    assert fleet.status("rfit-survivor").state is DomainState.RUNNING
    recorder.clear()
    fleet.start("rfit-after")
    recorder.domain_event("rfit-after", "started")
    fleet.destroy("rfit-survivor")
    recorder.domain_event("rfit-survivor", "stopped")
    assert domain_state(QEMU_URI, "rfit-survivor") == "shut off"


def test_remote_uri_works_like_the_local_one(workdir, guest, open_fleet):
    save_spec(workdir, qemu_spec("rfit-remote", guest))
    fleet = open_fleet(workdir, TCP_URI)
    assert fleet.host().uri == TCP_URI
    recorder = EventRecorder()
    fleet.subscribe(recorder)

    assert "running" in fleet.up("rfit-remote").words
    recorder.domain_event("rfit-remote", "started")
    assert domain_state(QEMU_URI, "rfit-remote") == "running"  # the same daemon, seen locally
    assert [status.name for status in fleet.statuses() if status.name == "rfit-remote"] == ["rfit-remote"]
    assert fleet.status("rfit-remote").owned

    fleet.destroy("rfit-remote")
    recorder.domain_event("rfit-remote", "stopped")
    fleet.undefine("rfit-remote")
    recorder.domain_event("rfit-remote", "undefined")
    assert domain_state(QEMU_URI, "rfit-remote") is None


# ---------------------------------------------------------------------------- the event timeline
def timeline_of(workdir) -> list[dict]:
    done = run_cli("--workdir", str(workdir.root), "events", "--json")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


async def test_the_console_records_the_hosts_events_and_each_face_its_operations(workdir, guest) -> None:
    """A real QEMU guest started through the CLI and destroyed with the console's d key: `events
    --json` shows each operation with the pid of the process that did it, and libvirt's lifecycle
    events, which the console records (its pid), each written once."""
    workdir.config_path.write_text(f'[hosts]\nlocal = "{QEMU_URI}"\n')
    save_spec(workdir, qemu_spec("rfit-timeline", guest))
    context = build_context(argparse.Namespace(workdir=workdir.root, demo=False, connect=None))
    app = RfconsoleApp(context, poll_seconds=1)
    root = str(workdir.root)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_in_app(pilot, lambda: context.fleet.host().connected, "the first poll to connect (libvirt's events come from then on)",
                              timeout=30)
            up = await asyncio.to_thread(run_cli, "--workdir", root, "up", "rfit-timeline")
            assert up.returncode == 0, up.stderr
            await wait_in_app(pilot, lambda: row_state(app, "rfit-timeline") == "running", "the guest running in the table")
            await pilot.press("d")
            await wait_in_app(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog", "the destroy's confirmation")
            await pilot.press("y")
            await wait_in_app(pilot, lambda: row_state(app, "rfit-timeline") == "shut off", "the guest shut off")
            for _ in range(100):
                if any(e["kind"] == "domain" and e["what"] == "stopped (destroyed)" for e in timeline_of(workdir)):
                    break
                await pilot.pause(0.1)
    finally:
        context.fleet.close()
    ours = [e for e in timeline_of(workdir) if e["subject"] == "rfit-timeline"]
    operations = [(e["what"], e["host"]) for e in ours if e["kind"] == "operation"]
    assert operations == [("up: defined, started, running on host local", "local"), ("destroy: shut off on host local", "local")]
    assert [e["pid"] == os.getpid() for e in ours if e["kind"] == "operation"] == [False, True]  # the CLI's, the console's
    events = [e["what"] for e in ours if e["kind"] == "domain"]
    assert [what for what in events if what in ("defined (added)", "started (booted)", "stopped (destroyed)")] == [
        "defined (added)", "started (booted)", "stopped (destroyed)"], events
    assert {e["pid"] for e in ours if e["kind"] == "domain"} == {os.getpid()} and {e["host"] for e in ours} == {"local"}
    # nothing written twice: no event of the domain recorded by two processes (each line has its own pid and time)
    written = [(e["kind"], e["subject"], e["what"]) for e in ours if e["kind"] == "domain"]
    assert len(written) == len(set(written)), written


def test_migrate_is_recorded_refused_and_done_with_both_hosts(workdir, guest, clean_host2: str) -> None:
    two_hosts(workdir, clean_host2, {})
    save_spec(workdir, qemu_spec("rfit-moved", guest, memory=32))
    root = str(workdir.root)
    assert run_cli("--workdir", root, "define", "rfit-moved").returncode == 0
    assert run_cli("--workdir", root, "migrate", "rfit-moved", "host2", "--live").returncode != 0
    moved = run_cli("--workdir", root, "migrate", "rfit-moved", "host2")
    assert moved.returncode == 0, moved.stderr
    migrations = [e for e in timeline_of(workdir) if e.get("data", {}).get("action") == "migrate"]
    assert [(e["subject"], e["host"], e["data"]["source"], e["data"]["target"], e["data"]["mode"]) for e in migrations] == [
        ("rfit-moved", "local", "local", "host2", "live"), ("rfit-moved", "host2", "local", "host2", "offline")]
    refused, done = migrations
    assert refused["what"] == "migrate to host host2 refused: refusing to migrate rfit-moved live: it is shut off on host local"
    assert done["what"].startswith("migrate: migrated offline from host local to host host2 in ")
    assert 0 < done["data"]["elapsed_s"] < 60
