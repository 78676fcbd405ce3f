"""The switch registry: mapping, reconnect tokens, subscribers, threads."""

from __future__ import annotations

import threading

from rfconsole.ondemand.registry import (
    SwitchEventKind,
    SwitchRegistry,
    format_datapath_id,
)


def test_datapath_ids_are_written_like_open_vswitch():
    assert format_datapath_id(5) == "0000000000000005"
    assert format_datapath_id(0x7266767372667673) == "7266767372667673"


def test_switches_show_their_mapped_vms_and_follow_a_new_mapping():
    registry = SwitchRegistry({5: ("rfvmA",)})
    registry.switch_up(object(), 5, "127.0.0.1:1", "OpenFlow 1.3")
    registry.switch_up(object(), 9, "127.0.0.1:2", "OpenFlow 1.0")
    assert [(s.dpid, s.vms) for s in registry.switches()] == [("0000000000000005", ("rfvmA",)), ("0000000000000009", ())]
    registry.set_mapping({9: ("rfvmX", "rfvmY")})
    assert registry.get(9).vms == ("rfvmX", "rfvmY") and registry.get(5).vms == ()


def test_a_failing_subscriber_does_not_silence_the_others(caplog):
    registry = SwitchRegistry()
    heard = []

    def broken(event):
        raise RuntimeError("boom")

    registry.subscribe(broken)
    unsubscribe = registry.subscribe(heard.append)
    token = object()
    registry.switch_up(token, 5, "a", "OpenFlow 1.3")
    assert [e.kind for e in heard] == [SwitchEventKind.UP]
    assert "a subscriber failed on switch 0000000000000005 up" in caplog.text
    unsubscribe()
    registry.switch_down(token, 5, "gone")
    assert len(heard) == 1


def test_only_the_current_connection_can_take_a_switch_down():
    registry = SwitchRegistry()
    old, new = object(), object()
    registry.switch_up(old, 5, "a", "OpenFlow 1.3")
    registry.switch_up(new, 5, "b", "OpenFlow 1.3")
    assert registry.switch_down(old, 5, "late close") is None
    assert registry.get(5).address == "b"
    assert registry.switch_down(new, 5, "closed").address == "b"
    assert registry.switches() == []


def test_reports_from_many_threads_leave_a_consistent_registry():
    registry = SwitchRegistry()
    counts = {"up": 0, "down": 0}
    lock = threading.Lock()

    def count(event):
        with lock:
            counts[event.kind.value] += 1

    registry.subscribe(count)

    def churn(base: int) -> None:
        for index in range(200):
            token = object()
            registry.switch_up(token, base + index, "x", "OpenFlow 1.3")
            if index % 2:
                registry.switch_down(token, base + index, "closed")

    threads = [threading.Thread(target=churn, args=(1000 * n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == {"up": 1600, "down": 800}
    assert len(registry.switches()) == 800
