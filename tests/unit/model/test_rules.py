"""model/rules.py: the rules exist once, and reading a document without pydantic (`xml show`,
`xml validate`) gives exactly what the pydantic model gives: the same settings, the same
refusals and the same house-rule warnings, word for word (the libvirt corpus does the same over
its ~1955 domains in test_corpus.py)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticUndefined

from rfconsole.model import rules
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.errors import InvalidSpec
from rfconsole.model.spec import Disk, DomainSpec, Interface, KernelBoot

from .conftest import DATA

TABLES = [(Interface, rules.INTERFACE_RULES), (Disk, rules.DISK_RULES), (KernelBoot, rules.KERNEL_BOOT_RULES), (DomainSpec, rules.DOMAIN_RULES)]


@pytest.mark.parametrize(("model", "table"), TABLES, ids=lambda item: getattr(item, "__name__", ""))
def test_each_table_is_its_models_fields_in_order_with_their_defaults(model, table):
    assert [field.name for field in table] == list(model.model_fields)
    for field in table:
        declared = model.model_fields[field.name]
        default = rules.REQUIRED if declared.default is PydanticUndefined else declared.default
        assert default == field.default, field.name
        assert field.nullable == ("None" in str(declared.annotation)), field.name


def light_reading(values: dict) -> tuple:
    """(settings, house-rule problems) or the refusal's problems, read without pydantic; a value the
    light reading leaves to the model fails the test (it would import pydantic)."""
    try:
        read = rules._settings(values, lenient=True)
    except InvalidSpec as invalid:
        return ("refused", invalid.problems)
    except rules._NeedsModel:
        pytest.fail(f"the light reading left {values!r} to the pydantic model")
    return (read, rules.house_rule_problems_of(read), rules.settings_json(read))


def model_reading(values: dict) -> tuple:
    try:
        spec = DomainSpec.read(values)
    except InvalidSpec as invalid:
        return ("refused", invalid.problems)
    return (spec.model_dump(), spec.house_rule_problems(), spec.model_dump(mode="json"))


def test_both_readings_agree_on_every_fixture_document():
    files = sorted(DATA.glob("**/*.xml"))
    assert len(files) >= 5
    for path in files:
        try:
            document = DomainDocument.read(path)
        except Exception:
            continue
        values = document.values()
        assert light_reading(values) == model_reading(values), path.name


text = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "kvm", "QEMU ", "lxc", "xen", "test", "exe", "hvm", "linux", "x86_64", "I686", "sparc",
                     "/", "/a", "a/b", "/srv/img.qcow2", " /a", "02:a0:a0:a0:a0:a0", "03:00:00:00:00:00", "zz",
                     "bridge", "network", "user", "direct", "openvswitch", "virtio", "e 1000", "dp0", "rfvmA.1",
                     "a-name-longer-than-fifteen", "1", "0", "-3", "+7", "4097", "99999999999999999999999999999999999999999999",
                     "file", "folder", "block", "cdrom", "vda", "name=1,b=2", "a\tb", "\ud800"]),
    st.text(max_size=8),
)
interface_values = st.fixed_dictionaries({field.name: text for field in rules.INTERFACE_RULES})  # every row of the field table's
disk_values = st.fixed_dictionaries({field.name: text for field in rules.DISK_RULES})
boot_values = st.none() | st.fixed_dictionaries({field.name: text for field in rules.KERNEL_BOOT_RULES})


@st.composite
def document_values(draw):
    """Settings shaped as DomainDocument.values() gives them (texts, None, tuples of dicts), then
    filtered as DomainDocument.spec() does, with values anywhere from good to hostile."""
    values = {field.name: draw(text) for field in rules.DOMAIN_RULES if not isinstance(field.kind, tuple)}
    values["id"] = draw(st.none() | st.integers(1, 2**31) | text)
    values["memory"] = draw(st.none() | st.integers(0, 2**40) | text)
    values["interfaces"] = tuple(draw(st.lists(interface_values, max_size=3)))
    values["disks"] = tuple(draw(st.lists(disk_values, max_size=2)))
    values["kernel_boot"] = draw(boot_values)
    return {key: value for key, value in values.items() if value is not None or key not in ("hypervisor", "name")}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document_values())
def test_both_readings_agree_on_generated_settings(values):
    assert light_reading(values) == model_reading(values)


def test_the_reading_leaves_to_the_model_what_it_does_not_decide():
    """A shape no document gives (a number as the domain type, a NIC that is not a mapping) is the
    model's to judge, in its words."""
    for values in ({"hypervisor": 5, "name": "a"}, {"hypervisor": "kvm", "name": "a", "interfaces": ("eth0",)}):
        with pytest.raises(rules._NeedsModel):
            rules._settings(values, lenient=True)
        with pytest.raises(InvalidSpec) as light:
            rules.lenient_settings(values)
        with pytest.raises(InvalidSpec) as model:
            DomainSpec.read(values)
        assert light.value.problems == model.value.problems and light.value.problems
