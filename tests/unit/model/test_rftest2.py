"""rftest2's presets and RouteFlow's CSV."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfconsole.errors import RfconsoleError
from rfconsole.model import Hypervisor, ImageKind
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import (
    MAX_CSV_BYTES,
    RFTEST2_PRESETS,
    RFTEST2_SWITCH_DPID,
    RFTEST2_VMS,
    CsvError,
    RouteflowRowsError,
    add_routeflow_rows,
    format_datapath_id,
    format_routeflow_row,
    mac_from_vm_id,
    new_vm_rows,
    parse_datapath_id,
    parse_routeflow_csv,
    preset_spec,
    read_routeflow_csv,
    routeflow_rows,
    vm_id_from_mac,
)
from rfconsole.model.schema import schema_problems
from rfconsole.store import Workdir

DESIGN_TABLE = {  # DESIGN.md: VM -> (eth0 MAC, number of data NICs, datapath id, image)
    "rfvmA": ("02:a0:a0:a0:a0:a0", 4, 5, "h1.img"),
    "rfvmB": ("02:b0:b0:b0:b0:b0", 3, 6, "h2.img"),
    "rfvmC": ("02:c0:c0:c0:c0:c0", 3, 7, "h3.img"),
    "rfvmD": ("02:d0:d0:d0:d0:d0", 4, 8, "h4.img"),
}


def test_the_four_vms_match_design():
    assert list(RFTEST2_VMS) == list(DESIGN_TABLE)
    for name, (mac, data_nics, dp_id, image) in DESIGN_TABLE.items():
        vm = RFTEST2_VMS[name]
        assert (vm.eth0_mac, len(vm.data_macs), vm.datapath_id, vm.image_name) == (mac, data_nics, dp_id, image)
        assert vm.data_devices[0] == f"{name}.1"
    assert RFTEST2_VMS["rfvmA"].data_macs[-1] == "02:a4:a4:a4:a4:a4"
    assert RFTEST2_VMS["rfvmC"].data_macs == ("02:c1:c1:c1:c1:c1", "02:c2:c2:c2:c2:c2", "02:c3:c3:c3:c3:c3")
    assert RFTEST2_SWITCH_DPID.to_bytes(8, "big") == b"rfvsrfvs"


def test_preset_spec_uses_the_image_convention_and_nics(tmp_path):
    spec = preset_spec("rfvmD", "qemu", Workdir(tmp_path))
    assert spec.image == tmp_path / "Images" / "h4.img" and spec.id == 4
    eth0, *data = spec.interfaces
    assert (eth0.mac, eth0.bridge, eth0.virtualport) == ("02:d0:d0:d0:d0:d0", "lxcbr0", None)
    assert [nic.target_dev for nic in data] == ["rfvmD.1", "rfvmD.2", "rfvmD.3", "rfvmD.4"]
    assert all(nic.bridge == "dp0" and nic.virtualport == "openvswitch" for nic in data)


def test_preset_overrides(tmp_path):
    spec = preset_spec("rfvmA", Hypervisor.LXC, tmp_path, management_bridge="virbr0", image=tmp_path, memory=128, name="routerA", vcpu=None)
    assert spec.name == "routerA" and spec.memory == 128 and spec.vcpu == 1
    assert spec.image_kind is ImageKind.FOLDER and spec.interfaces[0].bridge == "virbr0"
    assert len(preset_spec("rfvmA", "kvm", tmp_path, management_bridge=None).interfaces) == 4
    with pytest.raises(RfconsoleError, match="rfvmA, rfvmB, rfvmC, rfvmD, rfvmE, rfvmF") as refused:
        preset_spec("rfvmG", "kvm", tmp_path)
    assert "stops at rfvmF" in refused.value.hint


def test_the_naming_goes_on_to_a_fifth_and_sixth_router(tmp_path):
    spec = preset_spec("rfvmE", "qemu", Workdir(tmp_path))
    assert (spec.name, spec.id, spec.image) == ("rfvmE", 5, tmp_path / "Images" / "h5.img")
    assert [(nic.mac, nic.bridge, nic.target_dev) for nic in spec.interfaces] == [("02:e0:e0:e0:e0:e0", "lxcbr0", None)] + [
        (f"02:e{port}:e{port}:e{port}:e{port}:e{port}", "dp0", f"rfvmE.{port}") for port in range(1, 5)
    ]
    assert RFTEST2_PRESETS["rfvmE"].datapath_id == 9 and RFTEST2_PRESETS["rfvmF"].eth0_mac == "02:f0:f0:f0:f0:f0"
    assert list(RFTEST2_VMS) == ["rfvmA", "rfvmB", "rfvmC", "rfvmD"]  # rftest2's own four stay the default VMs
    with pytest.raises(RfconsoleError, match="data ports 1 to 9; rfvmE would need port 10"):
        RFTEST2_PRESETS["rfvmE"].data_mac(10)


@pytest.mark.parametrize("hypervisor", ["kvm", "qemu", "lxc", "test"])
@pytest.mark.parametrize("vm", list(RFTEST2_PRESETS))
def test_every_preset_validates_against_libvirt_schema(vm, hypervisor, tmp_path):
    document = DomainDocument.from_spec(preset_spec(vm, hypervisor, tmp_path))
    assert schema_problems(document) == []


def test_mac_and_vm_id():
    assert mac_from_vm_id(0x2A0A0A0A0A0) == "02:a0:a0:a0:a0:a0"
    assert vm_id_from_mac("02:a0:a0:a0:a0:a0") == 0x2A0A0A0A0A0


CSV = """vm_id,vm_port,ct_id,dp_id,dp_port
2A0A0A0A0A0,1,0,5,1
2A0A0A0A0A0,2,0,5,2
0x2B0B0B0B0B0,1,0,0x6,1

12A0A0A0A0A0C,1,0,7,1
2C0C0C0C0C0,1,0,7,1
2D0D0D0D0D0,1,0,zz,1
2D0D0D0D0D0,1,0
"""


def test_csv_maps_datapaths_to_vms_and_reports_bad_rows_by_line(tmp_path):
    mapping = parse_routeflow_csv(CSV)
    assert mapping.datapaths == {5: ("02:a0:a0:a0:a0:a0",), 6: ("02:b0:b0:b0:b0:b0",), 7: ("02:c0:c0:c0:c0:c0",)}
    assert [problem.split(":")[0] for problem in mapping.problems] == ["line 6", "line 8", "line 9"]
    assert "too big" in mapping.problems[0] and "'zz' is not a hex number" in mapping.problems[1]
    assert "3 columns" in mapping.problems[2]
    specs = [preset_spec(name, "qemu", tmp_path) for name in ("rfvmA", "rfvmB")]
    assert mapping.vm_names(specs) == {5: ("rfvmA",), 6: ("rfvmB",), 7: ()}
    path = tmp_path / "rftest2.csv"
    path.write_text(CSV)
    with pytest.raises(CsvError) as caught:
        read_routeflow_csv(path)
    assert "line 6" in caught.value.message and "line 9" in caught.value.message and str(path) in caught.value.message
    assert read_routeflow_csv(path, strict=False).macs_for(5) == ("02:a0:a0:a0:a0:a0",)


@pytest.mark.parametrize(
    ("text", "words"),
    [("", "empty"), ("a,b,c\n", "header"), ("vm_id,vm_port,ct_id,dp_id,dp_port\n1,x,0,5,1\n", "line 2: vm_port 'x'")],
)
def test_csv_problems(text, words):
    assert words in " ".join(parse_routeflow_csv(text).problems)


def test_csv_file_errors(tmp_path):
    with pytest.raises(CsvError, match="no such file"):
        read_routeflow_csv(tmp_path / "missing.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"vm_id,vm_port,ct_id,dp_id,dp_port\n\xff\xfe\n")
    with pytest.raises(CsvError, match="line 2: not UTF-8"):
        read_routeflow_csv(binary)


def test_csv_file_errors_speak_of_a_csv_not_of_domain_xml(tmp_path):
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as stream:
        stream.truncate(MAX_CSV_BYTES + 1)
    with pytest.raises(CsvError) as caught:
        read_routeflow_csv(huge)
    assert f"{MAX_CSV_BYTES + 1} bytes is too big for RouteFlow's CSV" in caught.value.message
    assert "domain XML" not in caught.value.message
    with pytest.raises(CsvError) as caught:
        read_routeflow_csv(tmp_path)
    assert caught.value.message == f"{tmp_path}: is a folder, not RouteFlow's CSV"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_rows_or_problems_never_an_exception(text):
    mapping = parse_routeflow_csv("vm_id,vm_port,ct_id,dp_id,dp_port\n" + text)
    for row in mapping.rows:
        assert mac_from_vm_id(row.vm_id).count(":") == 5
    assert all(problem.startswith("line ") for problem in mapping.problems)


def test_a_nul_byte_is_a_problem_with_a_line():
    assert parse_routeflow_csv("vm_id,vm_port,ct_id,dp_id,dp_port\n1,1,0,5,1\n\"a\x00\n").problems


def test_a_file_that_is_not_routeflows_csv_never_has_a_line_echoed(tmp_path):
    """A CSV that is a link to a secret file: the error says what is wrong, quoting nothing of it."""
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$Secret.Hash$abcdef:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n")
    link = tmp_path / "rftest2config.csv"
    link.symlink_to(secret)
    with pytest.raises(CsvError) as caught:
        read_routeflow_csv(link)
    message = caught.value.message + (caught.value.hint or "")
    assert "not RouteFlow's CSV" in message and "column 1 is not vm_id" in message
    assert "Secret" not in message and "daemon" not in message and "19000" not in message


def test_a_fifo_as_the_csv_is_refused_at_once(tmp_path):
    import os

    os.mkfifo(tmp_path / "rftest2config.csv")
    with pytest.raises(CsvError, match="FIFO"):
        read_routeflow_csv(tmp_path / "rftest2config.csv")


# ------------------------------------------------------------------ a new VM's rows in RouteFlow's CSV
RFTEST2_CSV = b"vm_id,vm_port,ct_id,dp_id,dp_port\n2A0A0A0A0A0,1,0,5,1\n2A0A0A0A0A0,2,0,5,2\n"


def test_rfvmE_rows_are_rftest2s_eth0_mac_its_data_ports_and_switch_9(tmp_path):
    rows = routeflow_rows(preset_spec("rfvmE", "qemu", tmp_path))
    assert [format_routeflow_row(row) for row in rows] == [f"2E0E0E0E0E0,{port},0,9,{port}" for port in range(1, 5)]
    assert [format_routeflow_row(row, prefixed=True) for row in rows][0] == "0x2E0E0E0E0E0,1,0,0x9,1"
    assert new_vm_rows(preset_spec("rfvmB", "qemu", tmp_path)) == []  # rftest2's CSV has its four already
    assert new_vm_rows(preset_spec("rfvmA", "qemu", tmp_path, name="lab7")) == []  # nothing says its switch
    assert [row.dp_id for row in new_vm_rows(preset_spec("rfvmA", "qemu", tmp_path, name="lab7"), 0x20)] == [0x20] * 4


def test_rows_cannot_be_made_without_a_switch_data_nics_or_an_eth0(tmp_path):
    with pytest.raises(RouteflowRowsError, match="lab7 is not named by rftest2's naming") as refused:
        routeflow_rows(preset_spec("rfvmA", "qemu", tmp_path, name="lab7"))
    assert "--datapath-id" in refused.value.hint
    with pytest.raises(RouteflowRowsError, match="rfvmE has no data NICs"):
        routeflow_rows(preset_spec("rfvmE", "qemu", tmp_path, interfaces=()))
    with pytest.raises(RouteflowRowsError, match="rfvmE has no management NIC"):
        routeflow_rows(preset_spec("rfvmE", "qemu", tmp_path, management_bridge=None))
    doubled = preset_spec("rfvmE", "qemu", tmp_path)
    doubled = doubled.with_changes(interfaces=(*doubled.interfaces, doubled.interfaces[1].with_changes(mac="02:00:00:00:00:09")))
    with pytest.raises(RouteflowRowsError, match="two data NICs for port 1"):
        routeflow_rows(doubled)


def test_rows_are_appended_keeping_every_byte_of_the_file(tmp_path):
    rows = routeflow_rows(preset_spec("rfvmE", "qemu", tmp_path))
    data, added = add_routeflow_rows(RFTEST2_CSV, rows, "rf.csv")
    assert added == rows and data.startswith(RFTEST2_CSV)
    assert data[len(RFTEST2_CSV):].decode().splitlines() == [f"2E0E0E0E0E0,{port},0,9,{port}" for port in range(1, 5)]
    assert read_mapping(data).datapaths[9] == ("02:e0:e0:e0:e0:e0",)
    assert add_routeflow_rows(data, rows, "rf.csv") == (None, [])  # already there: nothing to write
    # a file of later RouteFlow (0x ids), with Windows line ends, a BOM and no newline at its end
    styled = "\ufeffvm_id,vm_port,ct_id,dp_id,dp_port\r\n# rfvmA\r\n0x2A0A0A0A0A0,1,0,0x5,1".encode()
    data, _ = add_routeflow_rows(styled, rows[:1], "rf.csv")
    assert data == styled + b"\r\n0x2E0E0E0E0E0,1,0,0x9,1\r\n"
    data, _ = add_routeflow_rows(None, rows[:2], "rf.csv")  # no file yet: the header first
    assert data == b"vm_id,vm_port,ct_id,dp_id,dp_port\n2E0E0E0E0E0,1,0,9,1\n2E0E0E0E0E0,2,0,9,2\n"


def test_rows_that_contradict_the_file_or_a_file_that_is_not_routeflows_are_refused(tmp_path):
    rows = routeflow_rows(preset_spec("rfvmE", "qemu", tmp_path))
    taken_switch_port = RFTEST2_CSV + b"2C0C0C0C0C0,1,0,9,3\n"
    with pytest.raises(RouteflowRowsError, match=r"rf.csv line 4 already maps VM 2C0C0C0C0C0 \(02:c0:c0:c0:c0:c0\) port 1 to switch 9 port 3"):
        add_routeflow_rows(taken_switch_port, rows, "rf.csv")
    other_switch = RFTEST2_CSV + b"2E0E0E0E0E0,2,0,8,2\n"
    with pytest.raises(RouteflowRowsError, match="line 4 already maps VM 2E0E0E0E0E0 .* port 2 to switch 8 port 2"):
        add_routeflow_rows(other_switch, rows, "rf.csv")
    with pytest.raises(CsvError, match="line 3: vm_id 'zz' is not a hex number"):
        add_routeflow_rows(RFTEST2_CSV.replace(b"2A0A0A0A0A0,2", b"zz,2"), rows, "rf.csv")
    with pytest.raises(CsvError, match="not RouteFlow's CSV"):
        add_routeflow_rows(b"root:x:0:0:root:/root:/bin/bash\n", rows, "rf.csv")
    with pytest.raises(CsvError, match="line 2: not UTF-8"):
        add_routeflow_rows(RFTEST2_CSV[:40] + b"\xff\n", rows, "rf.csv")


def test_datapath_ids_are_read_as_the_config_writes_them():
    assert (parse_datapath_id("9"), parse_datapath_id(" 0x7266767372667673 "), parse_datapath_id("0XA")) == (9, RFTEST2_SWITCH_DPID, 10)
    for bad in ("x", "0x", "-1", str(2**64), "9.0", ""):
        with pytest.raises(RfconsoleError, match="is not a datapath id"):
            parse_datapath_id(bad, "--datapath-id")
    assert format_datapath_id(9) == "0000000000000009"


def read_mapping(data: bytes):
    return parse_routeflow_csv(data.decode(), "rf.csv")
