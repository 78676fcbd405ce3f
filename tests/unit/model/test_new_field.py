"""Issue 18: a new field is one row of the field table (model/fields.py), plus its rule in
model/rules.py when none fits. A copy of the table with two rows added (a domain's
<description>, an interface's <mtu size>) and their rules brings, with no other change: the
`xml new` option and `--nic` key, the `xml set` key (clearable), the pydantic models' fields and
validation, reading (both readers, word for word) and writing where libvirt's schema has them,
and the console wizard's step (fields_of_step)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rfconsole.cli import every_command, main
from rfconsole.model import fields, rules, spec
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.errors import InvalidSpec
from rfconsole.model.fields import Binding, Flag
from rfconsole.model.schema import schema_problems

from .tables import use_rows
from .test_every_binding import uncovered_rows

DESCRIPTION = Binding(
    "description", "description", "text", "a line about the VM", rule="description_text", clearable=True, step="identity",
    flag=Flag("--description", "TEXT", "a line about the VM (libvirt's <description>)"),
)
MTU = Binding("mtu", "mtu/@size", "int", "MTU in bytes", rule="mtu_bytes", kind=int, nic=Flag("mtu", "BYTES", "the MTU"))


def description_text(value: Any, lenient: bool) -> Any:
    return rules.text_or_none(value, "the description")


def mtu_bytes(value: Any, lenient: bool) -> Any:
    if value is None:
        return None
    number = rules.whole_number(value, "the MTU", "the MTU is from 68 to 65535 bytes")
    if not 68 <= number <= 65535:
        raise ValueError("the MTU is from 68 to 65535 bytes")
    return number


@pytest.fixture
def new_rows(monkeypatch):
    monkeypatch.setattr(rules, "description_text", description_text, raising=False)
    monkeypatch.setattr(rules, "mtu_bytes", mtu_bytes, raising=False)
    use_rows(monkeypatch, domain_rows=(*fields.DOMAIN_ROWS, DESCRIPTION), interface_rows=(*fields.INTERFACE_FIELDS, MTU))


def _run(capsys, workdir, *argv: str) -> tuple[int, str, str]:
    code = main(["--workdir", str(workdir), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_real_table_has_neither_row():
    """What the test adds is new: the real table, models and CLI know none of it."""
    assert "description" not in spec.DomainSpec.model_fields and "mtu" not in spec.Interface.model_fields
    assert "description" not in fields.SET_KEYS
    assert "--description" not in every_command()[("xml", "new")].format_help()


def test_two_rows_bring_option_key_model_reading_and_writing(new_rows, capsys, tmp_path):
    assert "--description TEXT" in every_command()[("xml", "new")].format_help()
    assert "description" in every_command()[("xml", "set")].description
    assert fields.fields_of_step("identity") == ("name", "id", "description")  # the wizard's step asks for it

    code, out, err = _run(capsys, tmp_path, "xml", "new", "--hypervisor", "qemu", "--name", "probe", "--image", "/srv/probe.qcow2",
                          "--description", "lab router", "--nic", "bridge=br0,mac=02:00:00:00:00:01,mtu=9000")
    assert code == 0, err
    path = tmp_path / "XML" / "probe.xml"
    document = DomainDocument.read(path)
    assert document.root.xpath("string(description)") == "lab router"
    assert document.root.xpath("string(devices/interface/mtu/@size)") == "9000"
    assert schema_problems(document) == [], "written where libvirt's schema has them"

    read = document.spec()
    assert (read.description, read.interfaces[0].mtu) == ("lab router", 9000)
    assert document.settings() == read.model_dump(), "both readers, the same settings"
    code, out, err = _run(capsys, tmp_path, "xml", "show", "--json", "probe")
    shown = json.loads(out)
    assert (shown["description"], shown["interfaces"][0]["mtu"]) == ("lab router", 9000)

    code, out, err = _run(capsys, tmp_path, "xml", "set", "probe", "description=core router")
    assert code == 0 and "changed: description" in out, out + err
    assert DomainDocument.read(path).root.xpath("string(description)") == "core router"
    code, out, err = _run(capsys, tmp_path, "xml", "set", "probe", "description=")
    assert code == 0, err
    assert DomainDocument.read(path).root.find("description") is None, "an empty value removes it"


def test_the_rows_rules_refuse_in_words_on_every_face(new_rows, capsys, tmp_path):
    code, out, err = _run(capsys, tmp_path, "xml", "new", "--hypervisor", "qemu", "--name", "probe", "--nic", "bridge=br0,mtu=12")
    assert code == 1 and "mtu" in err and "the MTU is from 68 to 65535 bytes" in err, err
    assert not (tmp_path / "XML" / "probe.xml").exists()
    with pytest.raises(InvalidSpec) as refused:
        spec.DomainSpec(hypervisor="qemu", name="probe", description="a\x01b")
    assert refused.value.problems[0].field == "description"
    broken = DomainDocument.parse("<domain type='qemu'><name>p</name><description>a</description>"
                                  "<devices><interface type='bridge'><source bridge='br0'/><mtu size='9'/></interface></devices></domain>")
    with pytest.raises(InvalidSpec) as light:
        broken.settings()
    with pytest.raises(InvalidSpec) as model:
        broken.spec()
    assert light.value.problems == model.value.problems
    assert [problem.field for problem in light.value.problems] == ["interfaces.0.mtu"]


def test_the_every_binding_test_asks_a_case_of_each_new_row(new_rows):
    """test_every_binding's guard sees the table in use: the rows added here have no case there."""
    assert uncovered_rows() == {"domain": ["description"], "interface": ["mtu"], "disk": []}


def test_a_row_naming_a_rule_rules_py_lacks_is_refused_by_name(monkeypatch):
    misnamed = Binding("description", "description", "text", "a line about the VM", rule="descripton_text")
    with pytest.raises(LookupError, match="row 'description' names the rule 'descripton_text', which model/rules.py does not define"):
        use_rows(monkeypatch, domain_rows=(*fields.DOMAIN_ROWS, misnamed))
