"""`rfconsole details VM [--json]` on libvirt's test driver: the facts of Fleet.details
(rfconsole/virt/details.py) in the words the console's details view shows, and as JSON."""

from __future__ import annotations

import json

import pytest

from rfconsole.cli import main
from rfconsole.config import Config
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import preset_spec
from rfconsole.model.spec import Hypervisor
from rfconsole.store import Store
from rfconsole.virt.fleet import Fleet

CSV = "vm_id,vm_port,ct_id,dp_id,dp_port\n2A0A0A0A0A0,1,0,5,1\n2A0A0A0A0A0,3,0,5,7\n"


@pytest.fixture
def running_rfvma(workdir, tmp_path):
    """A node XML whose rfvmA (rftest2's preset, five NICs) runs; the same VM in XML/; a RouteFlow
    CSV mapping its eth1 and eth3 to switch 5. The URI to connect to."""
    document = DomainDocument.from_spec(preset_spec("rfvmA", Hypervisor.TEST, workdir.root))
    Store(workdir).save(document)
    node = tmp_path / "node.xml"
    node.write_text("<node>\n" + document.to_xml() + "</node>\n")
    (workdir.root / "rftest2config.csv").write_text(CSV)
    (workdir.root / "rfconsole.toml").write_text('[ondemand]\nrouteflow_config = "rftest2config.csv"\n')
    return f"test://{node}"


def run(capsys, workdir, *argv: str) -> tuple[int, str, str]:
    code = main(["--workdir", str(workdir.root), *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_holds_every_fact_of_the_details_view(capsys, workdir, running_rfvma):
    code, out, err = run(capsys, workdir, "--connect", running_rfvma, "details", "rfvmA", "--json")
    assert code == 0, err
    facts = json.loads(out)
    assert facts["name"] == "rfvmA" and facts["uri"] == running_rfvma and facts["hypervisor"] == "test"
    assert (facts["state"], facts["reason"], facts["persistent"]) == ("running", "unknown", True)  # a node XML's domain runs for no reason libvirt records
    assert facts["vcpus"] == {"defined": 1, "live": 1} and facts["memory_mib"] == {"defined": 512, "live": 512}
    nics = {nic["name"]: nic for nic in facts["nics"]}
    assert list(nics) == ["eth0", "eth1", "eth2", "eth3", "eth4"]
    assert nics["eth0"]["mac"] == "02:a0:a0:a0:a0:a0" and (nics["eth0"]["type"], nics["eth0"]["source"]) == ("bridge", "lxcbr0")
    assert nics["eth1"]["host_device"] == "rfvmA.1" and nics["eth1"]["ovs_port"] == "rfvmA.1 on dp0"
    # RouteFlow's CSV: vm_port N is ethN of the VM whose eth0 MAC is vm_id; dp_id in hex as RouteFlow writes it
    assert (nics["eth1"]["switch"], nics["eth1"]["switch_port"]) == ("0000000000000005", 1)
    assert (nics["eth3"]["switch"], nics["eth3"]["switch_port"]) == ("0000000000000005", 7)
    assert nics["eth2"]["switch"] is None and "rftest2config.csv" in facts["switch_note"]
    # the test driver answers every address source with a made-up address per NIC
    for nic in facts["nics"]:
        (address,) = nic["addresses"]
        assert address["address"].startswith("192.168.") and address["prefix"] == 24
        assert address["sources"] == ["lease", "arp", "agent"]
    assert facts["xml"] == {"file": str(workdir.xml_dir / "rfvmA.xml"), "agrees": True, "note": facts["xml"]["note"]}
    assert facts["snapshots"] == [] and isinstance(facts["events"], list)


def test_text_shows_the_words_of_the_details_view(capsys, workdir, running_rfvma):
    fleet = Fleet(Config.load(workdir), Store(workdir), connect=running_rfvma)
    try:
        details = fleet.details("rfvmA")
    finally:
        fleet.close()
    code, out, err = run(capsys, workdir, "--connect", running_rfvma, "details", "rfvmA")
    assert code == 0, err
    lines = out.splitlines()
    assert f"State       {details.state_words}" in lines and details.state_words == "running"
    assert f"vCPUs       {details.vcpus_words}" in lines and f"Memory      {details.memory_words}" in lines
    eth1 = next(line for line in lines if line.startswith("eth1 "))
    assert eth1.split()[:7] == ["eth1", "02:a1:a1:a1:a1:a1", "bridge", "dp0", "rfvmA.1", "rfvmA.1", "on"]
    assert "0000000000000005:1" in eth1 and str(details.nics[1].addresses[0]) in eth1
    assert f"  {workdir.xml_dir / 'rfvmA.xml'}: agrees" in lines


def test_a_shut_off_vm_says_so_and_has_no_live_figures(capsys, workdir):
    code, out, err = run(capsys, workdir, "--demo", "details", "rfvmB")
    assert code == 0, err
    assert "State       shut off" in out.splitlines()
    assert "1 defined, — live" in out and "addresses: the VM is not running" in out
    assert "no file in XML/ defines this VM" in out
    facts = json.loads(run(capsys, workdir, "--demo", "details", "rfvmB", "--json")[1])
    assert facts["vcpus"]["live"] is None and all(nic["addresses"] == [] for nic in facts["nics"])
    assert facts["xml"]["agrees"] is None


def test_an_unknown_vm_or_host_is_a_clear_error(capsys, workdir):
    code, out, err = run(capsys, workdir, "--demo", "details", "rfvmZ")
    assert code == 1 and out == "" and "has no domain named rfvmZ" in err and "Traceback" not in err
    code, out, err = run(capsys, workdir, "--demo", "details", "rfvmA", "--host", "elsewhere")
    assert code == 1 and "elsewhere" in err and "Traceback" not in err
