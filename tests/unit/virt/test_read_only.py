"""Issue 19: ``--read-only`` opens hosts through libvirt's read-only connection: everything reads,
every change is refused by libvirt itself, in words that say why."""

from __future__ import annotations

import pytest

from rfconsole.config import Config
from rfconsole.virt.errors import ReadOnlyRefused
from rfconsole.virt.events import DomainState
from rfconsole.virt.fleet import Fleet
from tests.unit.virt.conftest import RFTEST2


@pytest.fixture
def read_only_demo(workdir, store):
    fleet = Fleet(Config.load(workdir), store, demo=True, read_only=True)
    yield fleet
    fleet.close()


def test_it_reads_every_vm(read_only_demo):
    assert [status.name for status in read_only_demo.statuses()] == list(RFTEST2)


@pytest.mark.parametrize("operation", ["start", "undefine"])
def test_a_change_is_refused_by_libvirt_in_words(read_only_demo, operation):
    with pytest.raises(ReadOnlyRefused) as refused:
        getattr(read_only_demo, operation)("rfvmA")
    assert "read-only" in refused.value.message and "rfconsole --read-only" in refused.value.message
    assert refused.value.hint == "start rfconsole without --read-only to change domains"
    assert read_only_demo.status("rfvmA").state is DomainState.SHUTOFF


def test_the_cli_flag_reaches_the_hosts(tmp_path, capsys):
    from rfconsole.cli import main

    (tmp_path / "XML").mkdir()
    assert main(["--demo", "--workdir", str(tmp_path), "--read-only", "start", "rfvmA"]) != 0
    said = capsys.readouterr().out
    assert "FAILED rfvmA" in said and "this session is read-only (rfconsole --read-only)" in said, said
