"""The booter through the real Fleet on libvirt's test driver (the embedded demo node: rfvmA–rfvmD shut off)."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from rfconsole.config import Config
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import preset_spec
from rfconsole.ondemand.booter import Booter
from rfconsole.ondemand.listener import SwitchListener
from rfconsole.ondemand.registry import SwitchRegistry
from rfconsole.ondemand.simswitch import SimulatedSwitch
from rfconsole.store import Store, Workdir
from rfconsole.virt.events import DomainState
from rfconsole.virt.fleet import Fleet

from .conftest import FAST, EventLog

MAP = {5: ("rfvmA",), 6: ("rfvmB", "rfvmC"), 7: ("rfvmC",), 9: ("rfvmE",), 10: ("ghost",)}


@pytest.fixture
def store(tmp_path):
    return Store(Workdir(tmp_path))


@pytest.fixture
def fleet(store, tmp_path):
    fleet = Fleet(Config.load(tmp_path), store, demo=True)
    yield fleet
    fleet.close()


@pytest.fixture
def registry():
    return SwitchRegistry()


@pytest.fixture
def booter(fleet, registry, caplog):
    caplog.set_level(logging.INFO, logger="rfconsole.ondemand")
    booter = Booter(fleet, MAP)
    booter.attach(registry)
    yield booter
    booter.close()


def state(fleet: Fleet, name: str) -> DomainState | None:
    status = fleet.status(name)
    return None if status is None else status.state


def up(registry: SwitchRegistry, datapath_id: int) -> object:
    token = object()
    registry.switch_up(token, datapath_id, "127.0.0.1:1", "OpenFlow 1.3")
    return token


def test_switch_up_starts_its_vm_and_logs_the_times(fleet, registry, booter, caplog):
    assert state(fleet, "rfvmA") is DomainState.SHUTOFF
    up(registry, 5)
    assert booter.wait_idle(10)
    assert state(fleet, "rfvmA") is DomainState.RUNNING
    assert state(fleet, "rfvmB") is DomainState.SHUTOFF
    [record] = booter.records
    assert (record.vm, record.outcome) == ("rfvmA", "started")
    assert record.switch_up <= record.issued <= record.running
    assert "switch 0000000000000005 up at" in caplog.text
    assert "rfvmA: start issued at +" in caplog.text and "rfvmA: running at +" in caplog.text


def test_reconnecting_switch_starts_its_vm_once(fleet, registry, booter):
    for _ in range(3):
        up(registry, 5)
        booter.wait_idle(10)
    assert booter.start_calls == {"rfvmA": 1}
    assert [r.outcome for r in booter.records] == ["started", "already running", "already running"]


def test_two_switches_of_one_vm_at_the_same_moment_start_it_once(fleet, registry, booter):
    barrier = threading.Barrier(2)

    def connect(datapath_id: int) -> None:
        barrier.wait()
        up(registry, datapath_id)

    threads = [threading.Thread(target=connect, args=(dp,)) for dp in (6, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert booter.wait_idle(10)
    assert booter.start_calls == {"rfvmB": 1, "rfvmC": 1}
    assert sorted(r.outcome for r in booter.records if r.vm == "rfvmC") == ["already running", "started"]
    assert state(fleet, "rfvmB") is state(fleet, "rfvmC") is DomainState.RUNNING


def test_unknown_switch_is_logged_and_nothing_is_done(fleet, registry, booter, caplog):
    up(registry, 0xDEAD)
    assert booter.wait_idle(10)
    assert booter.records == [] and booter.start_calls == {}
    assert all(s.state is DomainState.SHUTOFF for s in fleet.statuses())
    assert "switch 000000000000dead up: mapped to no VM, nothing to do" in caplog.text


def test_vm_unknown_to_libvirt_is_defined_from_its_xml_first(fleet, store, tmp_path, registry, booter):
    spec = preset_spec("rfvmA", "test", tmp_path, name="rfvmE", id=9)
    spec.image.parent.mkdir(parents=True, exist_ok=True)
    spec.image.write_bytes(b"")  # a VM whose image is missing is not started, even on the test driver
    store.save(DomainDocument.from_spec(spec))
    assert state(fleet, "rfvmE") is None
    up(registry, 9)
    assert booter.wait_idle(10)
    assert state(fleet, "rfvmE") is DomainState.RUNNING
    assert booter.records[0].outcome == "defined and started"


def test_vm_nowhere_to_be_found_is_a_logged_failure(fleet, registry, booter, caplog):
    up(registry, 10)
    assert booter.wait_idle(10)
    [record] = booter.records
    assert record.outcome == "failed" and "ghost" in record.error
    assert "ghost: cannot start it for switch 000000000000000a" in caplog.text


def test_switched_off_booter_leaves_vms_alone_until_switched_on(fleet, registry, booter):
    booter.set_enabled(False)
    up(registry, 5)
    assert booter.wait_idle(10)
    assert state(fleet, "rfvmA") is DomainState.SHUTOFF and booter.records == []
    booter.set_enabled(True)
    up(registry, 5)
    assert booter.wait_idle(10)
    assert state(fleet, "rfvmA") is DomainState.RUNNING


def wait_for_state(fleet: Fleet, name: str, wanted: DomainState, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while state(fleet, name) is not wanted:
        assert time.monotonic() < deadline, f"{name} is {state(fleet, name)}, not {wanted}"
        time.sleep(0.02)


def test_idle_shutdown_after_the_last_switch_leaves(fleet, registry, caplog):
    caplog.set_level(logging.INFO, logger="rfconsole.ondemand")
    booter = Booter(fleet, MAP, idle_shutdown=0.2)
    booter.attach(registry)
    six, seven = up(registry, 6), up(registry, 7)
    booter.wait_idle(10)
    registry.switch_down(six, 6, "closed")
    time.sleep(0.4)
    assert state(fleet, "rfvmC") is DomainState.RUNNING, "switch 7 still needs rfvmC"
    wait_for_state(fleet, "rfvmB", DomainState.SHUTOFF)
    registry.switch_down(seven, 7, "closed")
    wait_for_state(fleet, "rfvmC", DomainState.SHUTOFF)
    assert "rfvmC: idle for 0.2 s since its last switch left, shutting it down" in caplog.text
    booter.close()


def test_idle_shutdown_is_cancelled_when_the_switch_comes_back(fleet, registry):
    booter = Booter(fleet, MAP, idle_shutdown=0.3)
    booter.attach(registry)
    token = up(registry, 5)
    booter.wait_idle(10)
    registry.switch_down(token, 5, "closed")
    time.sleep(0.1)
    up(registry, 5)
    time.sleep(0.5)
    booter.wait_idle(10)
    assert state(fleet, "rfvmA") is DomainState.RUNNING
    booter.close()


def test_idle_shutdown_leaves_a_vm_the_operator_started(fleet, registry):
    fleet.start("rfvmA")
    booter = Booter(fleet, MAP, idle_shutdown=0.1)
    booter.attach(registry)
    token = up(registry, 5)
    booter.wait_idle(10)
    registry.switch_down(token, 5, "closed")
    time.sleep(0.3)
    booter.wait_idle(10)
    assert state(fleet, "rfvmA") is DomainState.RUNNING
    booter.close()


async def test_a_switch_handshake_boots_its_vm_end_to_end(fleet, registry, booter):
    events = EventLog(registry)
    async with SwitchListener(registry, FAST) as listener:
        switch = SimulatedSwitch(5)
        await switch.connect(*listener.address)
        event = await events.next()
        assert event.switch.vms == ("rfvmA",)
        await switch.close()
    assert booter.wait_idle(10)
    assert state(fleet, "rfvmA") is DomainState.RUNNING


def test_no_idle_shutdown_while_another_switch_with_the_datapath_id_is_connected(fleet, registry, caplog):
    caplog.set_level(logging.INFO, logger="rfconsole.ondemand")
    booter = Booter(fleet, MAP, idle_shutdown=0.2)
    booter.attach(registry)
    older, newer = up(registry, 5), up(registry, 5)
    booter.wait_idle(10)
    assert state(fleet, "rfvmA") is DomainState.RUNNING
    assert registry.switch_down(newer, 5, "closed") is None  # the older connection keeps 5 up …
    assert "shutting it down in" not in caplog.text  # … so no idle shutdown is even scheduled
    assert registry.switch_down(older, 5, "closed") is not None
    wait_for_state(fleet, "rfvmA", DomainState.SHUTOFF)
    booter.close()
