"""Lifecycle events from the real libvirtd through rfconsole's subscriber API, a libvirtd restart
survived, and a remote (qemu+tcp) URI used like the local one."""

from __future__ import annotations

import pytest

from rfconsole.virt.events import DomainEvent, DomainState, EventKind, HostEvent

from .conftest import (
    QEMU_URI,
    TCP_URI,
    EventRecorder,
    domain_state,
    qemu_spec,
    restart_libvirtd,
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
