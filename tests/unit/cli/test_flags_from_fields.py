"""`xml new`'s field options and `--nic`'s keys come from the field table (model/fields.py), issue
18: a row added to a copy of the table brings its option, the setting it gives, and its `--nic` key
(tests/unit/model/test_new_field.py follows such rows through reading, writing and `xml set`)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from rfconsole.cli import every_command
from rfconsole.cli.xml_cmd import _flag_settings, _nic_keys
from rfconsole.model import fields
from rfconsole.model.fields import Binding, Flag
from tests.unit.model.tables import use_rows


def _xml_new() -> argparse.ArgumentParser:
    return every_command()[("xml", "new")]


@pytest.fixture
def added_rows(monkeypatch):
    placement = Binding("placement", "vcpu/@placement", "text", "vCPU placement", rule="disk_setting", step="resources", flag=Flag("--vcpu-placement", "P", "static or auto"))
    mtu = Binding("mtu", "mtu/@size", "int", "MTU", rule="disk_setting", nic=Flag("mtu", "BYTES", "the MTU"))
    use_rows(monkeypatch, domain_rows=(*fields.DOMAIN_ROWS, placement), interface_rows=(*fields.INTERFACE_FIELDS, mtu))


def test_a_row_added_to_the_table_brings_its_option_and_nic_key(added_rows):
    parser = _xml_new()
    help_text = " ".join(parser.format_help().split())
    assert "--vcpu-placement P static or auto" in help_text and "mtu=BYTES (the MTU)" in help_text
    args = parser.parse_args(["--hypervisor", "qemu", "--name", "probe", "--vcpu-placement", "auto"])
    assert _flag_settings(args) == {"hypervisor": "qemu", "name": "probe", "placement": "auto"}
    assert _nic_keys()["mtu"] == "mtu"


def test_the_tables_options_are_xml_news_and_give_their_settings():
    parser = _xml_new()
    usage = parser.format_help()
    assert all(binding.flag.name in usage for binding in fields.DOMAIN_FIELDS if binding.flag is not None)
    args = parser.parse_args(["--hypervisor", "qemu", "--name", "probe", "--kernel", "/boot/k", "--cmdline", "console=ttyS0", "--vcpu", "2"])
    assert _flag_settings(args) == {"hypervisor": "qemu", "name": "probe", "vcpu": "2", "kernel_boot": {"kernel": Path("/boot/k"), "cmdline": "console=ttyS0"}}
    alone = parser.parse_args(["--hypervisor", "qemu", "--name", "probe", "--cmdline", ""])
    assert "kernel_boot" not in _flag_settings(alone), "a kernel command line without a kernel is no kernel boot"
