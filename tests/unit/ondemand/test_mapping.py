"""Datapath id -> VMs from RouteFlow's CSV (matched by MAC in XML/) and the explicit map."""

from __future__ import annotations

import pytest

from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import CsvError, preset_spec
from rfconsole.ondemand.mapping import build_datapath_map
from rfconsole.store import Store, Workdir

CSV = """vm_id,vm_port,ct_id,dp_id,dp_port
2A0A0A0A0A0,1,0,5,1
2A0A0A0A0A0,2,0,5,2
0x2B0B0B0B0B0,1,0,0x6,1
2C0C0C0C0C0,1,0,7,1
2C0C0C0C0C0,2,0,8,1
2EEEEEEEEEE,1,0,9,1
"""


@pytest.fixture
def store(tmp_path):
    store = Store(Workdir(tmp_path))
    for name in ("rfvmA", "rfvmB", "rfvmC"):
        store.save(DomainDocument.from_spec(preset_spec(name, "test", tmp_path)))
    return store


def test_routeflow_csv_maps_switches_to_the_vms_with_those_macs(store, tmp_path):
    (tmp_path / "rftest2.csv").write_text(CSV)
    mapping = build_datapath_map(store, tmp_path / "rftest2.csv")
    assert mapping.vms == {5: ("rfvmA",), 6: ("rfvmB",), 7: ("rfvmC",), 8: ("rfvmC",)}
    assert mapping.datapaths_of("rfvmC") == {7, 8}
    assert mapping.for_datapath(42) == ()
    assert mapping.notes == [f"switch 0000000000000009: no VM in XML/ has MAC 02:ee:ee:ee:ee:ee (from {tmp_path / 'rftest2.csv'})"]


def test_explicit_map_wins_for_the_datapaths_it_names(store, tmp_path):
    (tmp_path / "rftest2.csv").write_text(CSV)
    mapping = build_datapath_map(store, tmp_path / "rftest2.csv", {5: ["rfvmB", "rfvmB", "rfvmC"], 99: ["rfvmX"]})
    assert mapping.vms[5] == ("rfvmB", "rfvmC") and mapping.vms[99] == ("rfvmX",) and mapping.vms[6] == ("rfvmB",)


def test_a_broken_csv_is_a_plain_error_with_its_line(store, tmp_path):
    (tmp_path / "bad.csv").write_text("vm_id,vm_port,ct_id,dp_id,dp_port\nzz,1,0,5,1\n")
    with pytest.raises(CsvError, match="line 2"):
        build_datapath_map(store, tmp_path / "bad.csv")
