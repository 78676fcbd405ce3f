"""Every text and path field refuses what XML cannot hold or the kernel cannot open, in words:
never lxml's ValueError or an OSError (ENAMETOOLONG) from looking at the disk."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfconsole.model import (
    DomainSpec,
    Interface,
    InvalidSpec,
    KernelBoot,
    missing_files,
)
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.text import path_problem, text_problem

# Each field of the model that takes free text, as the keyword that sets it.
TEXT_FIELDS = {
    "image": lambda value: DomainSpec(hypervisor="qemu", name="a", image=value),
    "lxc image": lambda value: DomainSpec(hypervisor="lxc", name="a", image=value),
    "init": lambda value: DomainSpec(hypervisor="lxc", name="a", init=value),
    "kernel": lambda value: DomainSpec(hypervisor="qemu", name="a", kernel_boot=KernelBoot(kernel=value)),
    "initrd": lambda value: DomainSpec(hypervisor="qemu", name="a", kernel_boot=KernelBoot(kernel="/k", initrd=value)),
    "cmdline": lambda value: DomainSpec(hypervisor="qemu", name="a", kernel_boot=KernelBoot(kernel="/k", cmdline=value)),
    "network": lambda value: DomainSpec(hypervisor="qemu", name="a", image="/i", interfaces=[Interface(network=value)]),
    "bridge": lambda value: DomainSpec(hypervisor="qemu", name="a", image="/i", interfaces=[Interface(bridge=value)]),
    "target": lambda value: DomainSpec(hypervisor="qemu", name="a", image="/i", interfaces=[Interface(bridge="b", target_dev=value)]),
    "name": lambda value: DomainSpec(hypervisor="qemu", name=value, image="/i"),
}


def build(field, value):
    """The spec, written as XML and read back; or the InvalidSpec refusing it."""
    spec = TEXT_FIELDS[field](value)
    document = DomainDocument.from_spec(spec)
    read_back = DomainDocument.parse(document.to_bytes()).spec()
    assert read_back.model_dump() == spec.model_dump(), f"{field}={value!r} reads back otherwise"
    missing_files(spec)
    return spec


@pytest.mark.parametrize("field", [field for field in TEXT_FIELDS if field != "name"])
@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("/srv/a\x01b", "control characters"),
        ("/srv/a\x1b[31m", "control characters"),
        ("/srv/a\x7f", "control characters"),
        ("/srv/a\x85", "control characters"),
        ("/srv/a\ufffe", "control characters"),
        ("/srv/a\udcff", "not valid UTF-8"),  # a byte 0xff from the command line (surrogateescape)
    ],
)
def test_control_characters_and_invalid_utf8_are_refused_in_words(field, value, words):
    with pytest.raises(InvalidSpec) as caught:
        build(field, value)
    assert words in str(caught.value)


@pytest.mark.parametrize("field", ["image", "lxc image", "init", "kernel", "initrd"])
def test_a_name_longer_than_the_file_system_allows_is_refused_not_a_crash(field):
    with pytest.raises(InvalidSpec) as caught:
        build(field, "/srv/" + "x" * 256 + "/h1.img")
    assert "at most 255" in str(caught.value)
    with pytest.raises(InvalidSpec) as caught:
        build(field, "/srv" + "/x" * 2100)
    assert "at most 4095" in str(caught.value)


def test_the_longest_allowed_name_is_accepted_and_reported_missing():
    spec = DomainSpec(hypervisor="qemu", name="a", image="/srv/" + "x" * 255)
    assert [problem.field for problem in missing_files(spec)] == ["image"]


def test_the_rules_in_words():
    assert text_problem("plain text, spaces and ünïcode", "x") is None
    assert "character 3" in text_problem("ab\ncd", "the field")
    assert path_problem("/" + "é" * 128, "the image") is not None  # 256 bytes in UTF-8
    assert path_problem("/" + "é" * 127, "the image") is None


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(list(TEXT_FIELDS)), value=st.text(min_size=1, max_size=300))
def test_any_text_is_either_refused_in_words_or_written_and_read_back(field, value):
    try:
        build(field, value)
    except InvalidSpec:
        pass
