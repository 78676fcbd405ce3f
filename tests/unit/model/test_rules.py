"""model/rules.py: the rules exist once and one engine runs them (``rules.validated``): reading a
document without pydantic (`xml show`, `xml validate`) gives exactly what the pydantic models give,
since they validate through the same engine: the same settings, the same refusals and the same
house-rule warnings, word for word (the libvirt corpus does the same over its ~1955 domains in
test_corpus.py)."""

from __future__ import annotations

import json
import subprocess
import sys

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
    """(settings, house-rule problems) or the refusal's problems, read without pydantic."""
    try:
        read = rules.lenient_settings(values)
    except InvalidSpec as invalid:
        return ("refused", invalid.problems)
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


SHAPES_NO_DOCUMENT_GIVES = [
    {"hypervisor": 5, "name": "a"},
    {"hypervisor": "kvm", "name": "a", "interfaces": ("eth0",)},
    {"hypervisor": "kvm", "name": "a", "interfaces": "eth0", "disks": None, "kernel_boot": ["/k"]},
    {"hypervisor": "kvm", "name": "a", "kernel_boot": {"initrd": "/i"}, "x": 1, 2: 3},
    {"name": "a", "arch": b"i686", "os_type": 1.5, "interfaces": [{"bridge": "b", "mtu": 1}]},
]


def _problems(found: list) -> list:
    return [(problem.field, repr(problem.value), problem.message) for problem in found]


def test_the_light_reading_decides_every_shape_and_type_in_the_models_words():
    """What no document gives (a number as the domain type, a NIC that is not a mapping, a list
    that is text, a group that is a list, an unknown or a non-text key, a field missing, bytes or a
    float for an enum) is decided by the one engine without importing pydantic, in the words the
    models say it (they run the same engine). Failed before: the light reading left these to the
    pydantic model, importing it."""
    light = subprocess.run(
        [sys.executable, "-c", (
            "import json, sys\n"
            "from rfconsole.model import rules\n"
            "from rfconsole.model.errors import InvalidSpec\n"
            f"found = []\nfor values in {SHAPES_NO_DOCUMENT_GIVES!r}:\n"
            "    try:\n        rules.lenient_settings(values)\n        found.append(None)\n"
            "    except InvalidSpec as invalid:\n"
            "        found.append([(p.field, repr(p.value), p.message) for p in invalid.problems])\n"
            "print(json.dumps({'pydantic': 'pydantic' in sys.modules, 'found': found}))")],
        capture_output=True, text=True, check=True, timeout=60)
    answer = json.loads(light.stdout)
    assert answer["pydantic"] is False
    model = []
    for values in SHAPES_NO_DOCUMENT_GIVES:
        with pytest.raises(InvalidSpec) as refused:
            DomainSpec.read(values)
        model.append([list(problem) for problem in _problems(refused.value.problems)])
    assert answer["found"] == model
    words = {problem[2] for found in model for problem in found}
    assert {"is required", "has the wrong shape", "must be a list", "is not a setting rfconsole knows", "is not allowed here"} <= words
    assert ["os_type", "1.5", "must be 'hvm', 'linux', 'exe', 'xen', 'xenpvh' or 'uml'"] in model[4]


def test_the_models_validate_only_through_the_engine():
    """The pydantic models have no validator of their own: a spec is what ``rules.validated`` made."""
    for model in (Interface, Disk, KernelBoot, DomainSpec):
        decorators = model.__pydantic_decorators__
        assert not (decorators.field_validators or decorators.model_validators or decorators.validators or decorators.root_validators), model
    settings = {"hypervisor": "test", "name": "a", "interfaces": [{"bridge": "b"}]}
    made = rules.validated(rules.DOMAIN_RULES, settings, False, DomainSpec.builder)
    assert made == DomainSpec(**settings) and type(made.interfaces[0]) is Interface and made.model_fields_set == {"hypervisor", "name", "interfaces", "os_type", "image_kind"}
