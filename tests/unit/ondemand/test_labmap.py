"""The lab map (issue 21) on libvirt's test driver and a timeline file written here: which switch
is connected since when and through which connection, its VMs with their NICs, ports and bridges;
bad input (a missing or garbled CSV, a torn events.jsonl) told in words, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from rfconsole.cli import main
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import RFTEST2_VMS, preset_spec, vm_id_from_mac
from rfconsole.ondemand.labmap import TimelineFacts
from rfconsole.store import Store, Workdir
from rfconsole.virt.timeline import FILE_NAME, TimelineEntry

TEST_URI = "test:///default"


def event_line(when: float, kind: str, subject: str, what: str, pid: int, **data: object) -> str:
    return json.dumps(TimelineEntry(when, kind, subject, what, None, dict(data), pid).to_json()) + "\n"


def switch_line(when: float, datapath_id: int, event: str, pid: int, address: str = "127.0.0.1:40000") -> str:
    """As OnDemand.record_on writes one."""
    what = f"up from {address} (OpenFlow 1.3): booting on demand" if event == "up" else "down"
    return event_line(when, "switch", f"{datapath_id:016x}", what, pid, datapath_id=datapath_id, vms=[], address=address,
                      version="OpenFlow 1.3", event=event)


def ended_pid() -> int:
    """The pid of a process that has ended (not reused this soon on a machine with a free pid range)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture
def lab(tmp_path):
    """XML/ with rftest2's rfvmA–rfvmD (test driver), RouteFlow's CSV for them."""
    store = Store(Workdir(tmp_path))
    rows = ["vm_id,vm_port,ct_id,dp_id,dp_port"]
    for name, vm in RFTEST2_VMS.items():
        store.save(DomainDocument.from_spec(preset_spec(name, "test", tmp_path)))
        rows += [f"{vm_id_from_mac(vm.eth0_mac):X},{port},0,{vm.datapath_id:X},{port}" for port in range(1, vm.data_nics + 1)]
    (tmp_path / "rftest2.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def run_map(capsys, folder, *options: str) -> tuple[int, str, str]:
    code = main(["--workdir", str(folder), "--connect", TEST_URI, "map", "--routeflow-config", str(folder / "rftest2.csv"), *options])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_switch_is_connected_while_a_live_process_holds_it():
    now = time.time()
    me, gone = os.getpid(), ended_pid()
    facts = TimelineFacts()
    for line in (
        event_line(now - 50, "watch", "127.0.0.1:6653", "watching for OpenFlow switches", me),
        switch_line(now - 40, 5, "up", me),
        switch_line(now - 30, 5, "up", me, "127.0.0.1:40002"),  # a second connection of the same switch
        switch_line(now - 20, 6, "up", gone),  # its watch was killed: no "stopped watching"
        event_line(now - 45, "watch", "127.0.0.1:7000", "watching for OpenFlow switches", 99999999),
        switch_line(now - 44, 7, "up", 99999999),
        event_line(now - 10, "watch", "127.0.0.1:7000", "stopped watching", 99999999),
        switch_line(now - 35, 8, "up", me),
        switch_line(now - 5, 8, "down", me),
    ):
        entry = TimelineEntry.from_json(json.loads(line))
        assert entry is not None
        facts.add(entry)
    switches = facts.switches()
    five = switches[5]
    assert five.connected and five.since == pytest.approx(now - 40)
    assert [(c.switch_address, c.controller, c.pid) for c in five.connections] == [
        ("127.0.0.1:40000", "127.0.0.1:6653", me), ("127.0.0.1:40002", "127.0.0.1:6653", me)]
    assert "connected since" in five.words(now) and "127.0.0.1:40000 → 127.0.0.1:6653" in five.words(now)
    assert f"(pid {me}, OpenFlow 1.3)" in five.words(now)
    assert not switches[6].connected and f"pid {gone}) is gone" in switches[6].words(now)
    assert not switches[7].connected and switches[7].since == pytest.approx(now - 10) and "stopped watching" in switches[7].words(now)
    assert not switches[8].connected and switches[8].since == pytest.approx(now - 5)


def test_map_json_on_the_test_driver(capsys, lab):
    now = time.time()
    me = os.getpid()
    (lab / FILE_NAME).write_text(
        event_line(now - 9, "watch", "127.0.0.1:6653", "watching for OpenFlow switches", me)
        + switch_line(now - 8, 5, "up", me)
        + event_line(now - 6, "boot", "rfvmA", "defined and started for switch 0000000000000005, running 1.234 s after the switch came up",
                     me, datapath_id=5, outcome="defined and started", latency_s=1.234)
    )
    code, out, err = run_map(capsys, lab, "--json")
    assert code == 0, err
    said = json.loads(out)
    switches = {switch["datapath_id"]: switch for switch in said["switches"]}
    assert list(switches) == [f"{dpid:016x}" for dpid in (5, 6, 7, 8)]
    five = switches["0000000000000005"]
    assert five["connected"] and five["vms"] == ["rfvmA"] and five["since"] == pytest.approx(now - 8, abs=0.01)
    assert five["connections"] == [{"switch": "127.0.0.1:40000", "controller": "127.0.0.1:6653", "pid": me, "since": pytest.approx(now - 8, abs=0.01),
                                    "version": "OpenFlow 1.3"}]
    assert not switches["0000000000000006"]["connected"] and switches["0000000000000006"]["since"] is None
    vms = {vm["name"]: vm for vm in said["vms"]}
    assert vms["rfvmA"]["boot"]["latency_s"] == 1.234 and vms["rfvmA"]["switches"] == ["0000000000000005"]
    assert vms["rfvmA"]["state"] == "undefined"  # in XML/ only: the test driver has not defined it
    nics = vms["rfvmA"]["nics"]
    assert [nic["name"] for nic in nics] == ["eth0", "eth1", "eth2", "eth3", "eth4"]
    assert nics[0]["bridge"] == "lxcbr0" and nics[0]["management"] and not nics[0]["openvswitch"] and nics[0]["switch"] is None
    assert nics[1] | {"counters": None} == {
        "name": "eth1", "mac": "02:a1:a1:a1:a1:a1", "bridge": "dp0", "openvswitch": True, "port": "rfvmA.1", "port_from": "XML/",
        "management": False, "switch": "0000000000000005", "switch_port": 1, "counters": None}
    assert vms["test"]["nics"][0]["bridge"] == "default"  # the test driver's own domain, not in XML/: from its definition
    bridges = said["bridges"]
    assert [(b["name"], b["openvswitch"], b["management"], b["data"]) for b in bridges] == [
        ("default", False, True, False), ("lxcbr0", False, True, False), ("dp0", True, False, True)]
    assert {"vm": "rfvmD", "nic": "eth4", "port": "rfvmD.4"} in bridges[2]["ports"] and len(bridges[2]["ports"]) == 14
    assert said["problems"] == [] and "getAllDomainStats" in said["sources"]["counters"]

    code, out, err = run_map(capsys, lab)
    assert code == 0 and "Traceback" not in err
    assert "switch 0000000000000005  connected since" in out and "rfvmA  undefined (only in XML/); on-demand boot at" in out
    assert "eth1  02:a1:a1:a1:a1:a1  dp0 port rfvmA.1 (Open vSwitch)  switch 0000000000000005 port 1" in out
    assert "switch 0000000000000006  not connected (never seen by rfconsole)" in out


def test_a_missing_csv_is_told_by_name(capsys, lab):
    (lab / "rftest2.csv").unlink()
    code, out, err = run_map(capsys, lab)
    assert code == 1 and "Traceback" not in err
    assert f"rfconsole: RouteFlow's CSV cannot be read: {lab / 'rftest2.csv'}" in err
    assert "VMs of no switch" in out and "rfvmA" in out  # XML/'s VMs are still shown


def test_a_garbled_csv_is_told_with_its_lines(capsys, lab):
    (lab / "rftest2.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff binary")
    code, out, err = run_map(capsys, lab, "--json")
    assert code == 1 and "Traceback" not in err
    assert "RouteFlow's CSV cannot be read" in err and "line 1: not UTF-8 text" in err
    assert json.loads(out)["switches"] == []
    # one bad row among good ones: the good rows make the map, the bad one is named
    csv = (lab / "rftest2.csv")
    csv.write_text("vm_id,vm_port,ct_id,dp_id,dp_port\n2A0A0A0A0A0,1,0,5,1\nnonsense,x,0,6,1\n")
    code, out, err = run_map(capsys, lab, "--json")
    assert code == 0 and [switch["datapath_id"] for switch in json.loads(out)["switches"]] == ["0000000000000005"]
    assert f"{csv}: line 3: vm_id 'nonsense' is not a hex number" in err


def test_a_torn_timeline_is_told_and_the_rest_used(capsys, lab):
    now = time.time()
    (lab / FILE_NAME).write_text(switch_line(now - 3, 5, "up", os.getpid()) + "{not json\n" + switch_line(now - 2, 6, "up", os.getpid())[:40])
    code, out, err = run_map(capsys, lab, "--json")
    assert code == 0 and "Traceback" not in err
    switches = {switch["datapath_id"]: switch["connected"] for switch in json.loads(out)["switches"]}
    assert switches["0000000000000005"] and not switches["0000000000000006"]
    assert "events.jsonl line 2: not a JSON event (a torn or foreign line), skipped" in err
    assert "events.jsonl line 3: an unfinished line (a writer stopped mid-line), skipped" in err


def test_following_knows_the_timeline_at_once_and_counts_each_entry_once(lab):
    import threading

    from rfconsole.ondemand.labmap import LabMapReader
    from rfconsole.virt.fleet import Fleet
    from rfconsole.virt.timeline import Timeline

    me = os.getpid()
    (lab / FILE_NAME).write_text(switch_line(time.time() - 5, 5, "up", me) + "{torn\n")
    store = Store(Workdir(lab))
    fleet = Fleet(None, store, connect=TEST_URI)
    stop, changed = threading.Event(), threading.Event()
    follower = None
    try:
        # what is there is known when follow() returns, whether or not its thread has run (here: it never does)
        stopped = LabMapReader(fleet, store, lab / "rftest2.csv", None, Timeline(lab), own_listener="127.0.0.1:6999")
        stopped.follow(lambda: None, lambda: True)
        first = stopped.read()
        assert first.switch(5).facts.connected and len(first.switch(5).facts.connections) == 1
        # this process recorded it and said nowhere where it listens (a console): its own listener's address
        assert first.switch(5).facts.connections[0].controller == "127.0.0.1:6999"
        assert first.problems == ("events.jsonl line 2: not a JSON event (a torn or foreign line), skipped",)

        reader = LabMapReader(fleet, store, lab / "rftest2.csv", None, Timeline(lab))
        follower = reader.follow(changed.set, stop.is_set)
        with open(lab / FILE_NAME, "a") as timeline:
            timeline.write(switch_line(time.time(), 6, "up", me))
        deadline = time.monotonic() + 3
        while not reader.read().switch(6).facts.connected and time.monotonic() < deadline:
            changed.wait(0.1)
        later = reader.read()
        assert later.switch(6).facts.connected and changed.is_set()
        assert len(later.switch(5).facts.connections) == 1 and len(later.problems) == 1  # the backlog not counted twice
    finally:
        stop.set()
        if follower is not None:
            follower.join(2)
        fleet.close()


def test_the_demo_shows_rftest2s_lab_from_its_definitions_and_naming(capsys, tmp_path):
    """The demo has no XML/ files and no RouteFlow CSV: its VMs' NICs come from the host's
    definitions, their switches from rftest2's naming (rfvmA serves switch 5 …)."""
    code = main(["--workdir", str(tmp_path), "--demo", "map", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    said = json.loads(out)
    switches = {switch["datapath_id"]: switch["vms"] for switch in said["switches"]}
    assert switches == {f"{4 + number:016x}": [f"rfvm{letter}"] for number, letter in enumerate("ABCD", start=1)}
    nics = {vm["name"]: vm["nics"] for vm in said["vms"]}
    assert [(nic["name"], nic["bridge"], nic["port"]) for nic in nics["rfvmA"][:2]] == [("eth0", "lxcbr0", "testnet0"), ("eth1", "dp0", "rfvmA.1")]
    assert (nics["rfvmA"][1]["switch"], nics["rfvmA"][1]["switch_port"]) == ("0000000000000005", 1)
    assert len(nics["rfvmB"]) == 4 and nics["rfvmB"][3]["switch_port"] == 3
    assert "naming" in said["sources"]["switches_of_vms"] and not any("RouteFlow CSV" in problem for problem in said["problems"])


def test_what_cannot_be_read_is_said_and_nothing_of_the_csv_hides(capsys, lab):
    """A torn file of XML/ is named, and the switch its VM serves is still listed (mapped to no
    VM); a CSV with nothing usable in it is a failure (exit 1), whatever its first line says; a VM
    only rfconsole.toml names is said to be nowhere, not 'only in XML/'."""
    (lab / "XML" / "rfvmA.xml").write_text("<domain type='test'><name>rfvmA</name")
    (lab / "rfconsole.toml").write_text('[ondemand.map]\n9 = ["rfvmZ"]\n')
    code, out, err = run_map(capsys, lab, "--json")
    assert code == 0, err
    said = json.loads(out)
    assert any(problem.startswith("XML/rfvmA.xml is not on the map: ") for problem in said["problems"]), said["problems"]
    switches = {switch["datapath_id"]: switch["vms"] for switch in said["switches"]}
    assert switches["0000000000000005"] == [] and switches["0000000000000009"] == ["rfvmZ"]
    vms = {vm["name"]: vm for vm in said["vms"]}
    assert vms["rfvmZ"]["read_from"] is None and vms["rfvmB"]["read_from"] == "XML/"
    code, out, _ = run_map(capsys, lab)
    assert "rfvmZ  unknown: in no file of XML/ and on no host" in out and "no NIC known" in out
    assert "switch 0000000000000005  not connected (never seen by rfconsole)\n  mapped to no VM" in out

    (lab / "rftest2.csv").write_text("a,b\n1,2\n")  # text, but not RouteFlow's CSV at all
    code, _, err = run_map(capsys, lab)
    assert code == 1 and f"RouteFlow's CSV {lab / 'rftest2.csv'} has no row rfconsole can use" in err
