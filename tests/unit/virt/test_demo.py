"""The embedded demo: its node XML ships in the package and agrees with the model's rftest2 presets."""

from __future__ import annotations

from lxml import etree

from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import RFTEST2_VMS
from rfconsole.model.spec import Hypervisor
from rfconsole.virt.demo import DEMO_NODE_XML, demo_uri, is_demo_uri

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"


def demo_domains() -> list[etree._Element]:
    return etree.parse(str(DEMO_NODE_XML)).getroot().findall("domain")


def test_the_node_xml_is_package_data_opened_by_absolute_path():
    assert DEMO_NODE_XML.parent.name == "virt" and DEMO_NODE_XML.parent.parent.name == "rfconsole"
    assert demo_uri() == f"test://{DEMO_NODE_XML}" and demo_uri().startswith("test:///")
    assert is_demo_uri(demo_uri()) and not is_demo_uri("test:///default")


def test_each_domain_is_the_rftest2_preset_shut_off_and_owned():
    domains = demo_domains()
    assert [d.findtext("name") for d in domains] == list(RFTEST2_VMS)
    for element in domains:
        assert element.findtext(f"{{{TEST_NS}}}runstate") == "5"  # shut off
        document = DomainDocument.parse(etree.tostring(element))
        preset = RFTEST2_VMS[document.name]
        spec = document.spec()
        assert document.owned and spec.hypervisor is Hypervisor.TEST
        assert spec.id == preset.default_id
        assert spec.interfaces == preset.interfaces()  # eth0 on lxcbr0, data NICs on dp0 with their MACs and rfvmX.N names


def test_status_json_flags_the_demo(demo):
    rows = [status.to_json() for status in demo.statuses()]
    assert [row["name"] for row in rows] == list(RFTEST2_VMS)
    assert all(row["demo"] is True and row["state"] == "shut off" and row["hypervisor"] == "test" for row in rows)
    assert set(rows[0]) == {"name", "host", "hypervisor", "state", "vcpus", "memory_mib", "cpu_percent", "owned", "demo"}


def test_each_fleet_has_its_own_demo_state(demo, workdir, store):
    from rfconsole.config import Config
    from rfconsole.virt.fleet import Fleet

    demo.start("rfvmA")
    other = Fleet(Config.load(workdir), store, demo=True)
    try:
        assert other.status("rfvmA").state.value == "shut off"
    finally:
        other.close()
