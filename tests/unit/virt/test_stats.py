"""virt/stats.py: counters from getAllDomainStats records, rates between ticks, the history
(issue 21). The real libvirtd's figures are in tests/integration/test_top.py."""

from __future__ import annotations

import json

import pytest

from rfconsole.cli import main
from rfconsole.virt.events import DomainState
from rfconsole.virt.stats import ResourceHistory, counters_from_record

RECORD = {
    "state.state": 1, "state.reason": 1, "cpu.time": 10_000_000_000, "balloon.current": 262144, "balloon.maximum": 524288,
    "block.count": 2, "block.0.rd.bytes": 1000, "block.0.wr.bytes": 50, "block.1.rd.bytes": 24, "block.1.wr.bytes": 0,
    "net.count": 1, "net.0.name": "rfvmA.1", "net.0.rx.bytes": 100, "net.0.tx.bytes": 200, "net.0.rx.pkts": 1, "net.0.tx.pkts": 2,
}


def later(seconds_of_cpu: float, **changes: int) -> dict:
    record = dict(RECORD, **{key.replace("_", "."): value for key, value in changes.items()})
    record["cpu.time"] = RECORD["cpu.time"] + int(seconds_of_cpu * 1e9)
    return record


def test_a_record_becomes_counters_summed_over_disks():
    counters = counters_from_record("local", "rfvmA", RECORD, at=5.0)
    assert counters.state is DomainState.RUNNING and counters.cpu_ns == 10_000_000_000
    assert (counters.memory_kib, counters.disk_read_bytes, counters.disk_write_bytes) == (262144, 1024, 50)
    assert counters.nics[0].device == "rfvmA.1" and counters.nics[0].tx_bytes == 200


def test_rates_come_from_two_ticks_and_the_history_keeps_them():
    history = ResourceHistory(length=3)
    first = history.update([counters_from_record("local", "rfvmA", RECORD, at=0.0)])[0]
    assert first.cpu_percent == 0.0 and first.memory_mib == 256  # rates need two ticks
    second = history.update([counters_from_record("local", "rfvmA", later(0.45, net_0_tx_bytes=2248, block_0_wr_bytes=1074), at=0.5)])[0]
    assert round(second.cpu_percent) == 90
    assert second.net_tx_bytes_per_s == 4096.0 and second.nics[0].tx_bytes_per_s == 4096.0
    assert second.disk_write_bytes_per_s == 2048.0 and second.disk_read_bytes_per_s == 0.0
    for tick in range(3):
        history.update([counters_from_record("local", "rfvmA", later(0.45), at=1.0 + tick)])
    assert len(history.history("rfvmA")) == 3
    history.update([])  # undefined: forgotten
    assert history.history("rfvmA") == []


def test_a_counter_going_back_reads_as_no_rate_and_a_stopped_domain_costs_nothing():
    history = ResourceHistory()
    history.update([counters_from_record("local", "rfvmA", RECORD, at=0.0)])
    restarted = history.update([counters_from_record("local", "rfvmA", dict(RECORD, **{"cpu.time": 5}), at=1.0)])[0]
    assert restarted.cpu_percent == 0.0
    off = history.update([counters_from_record("local", "rfvmA", {"state.state": 5, "state.reason": 0}, at=2.0)])[0]
    assert off.state is DomainState.SHUTOFF and off.cpu_percent == 0.0 and off.memory_mib is None


def test_fleet_reads_every_domain_in_one_call_per_host(demo):
    counters, problems = demo.domain_counters()
    assert problems == []
    assert sorted(c.name for c in counters) == ["rfvmA", "rfvmB", "rfvmC", "rfvmD"]


def test_top_once_json_lists_every_domain(capsys):
    assert main(["--demo", "top", "--once", "--json", "--interval", "0.1"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(vm["name"] for vm in listed) == ["rfvmA", "rfvmB", "rfvmC", "rfvmD"]
    assert all(vm["state"] == "shut off" and vm["cpu_percent"] == 0.0 for vm in listed)


def test_top_refuses_an_interval_out_of_range(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--demo", "top", "--interval", "0"])
    assert exit.value.code == 2
    assert "--interval: '0': give 0.1 to 3600 seconds" in capsys.readouterr().err
