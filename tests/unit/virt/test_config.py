"""rfconsole.toml: defaults without it, every key read, and bad values named (file, key, value)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rfconsole.config import Config, ConfigError
from rfconsole.model.spec import Hypervisor

FULL = """
default_host = "lab2"
stats_interval = 0.5

[hosts]
local = "qemu:///system"
lxc = "lxc:///system"
lab2 = "qemu+ssh://lab2/system"

[placement]
rfvmA = "local"

[hypervisors]
kvm = "local"

[ondemand]
listen = "0.0.0.0:6653"
routeflow_config = "rftest/rftest2config.csv"
idle_shutdown = 300

[ondemand.map]
"5" = ["rfvmA"]
"0x7266767372667673" = ["rfvmB", "rfvmC"]
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "rfconsole.toml").write_text(text)
    return tmp_path


def test_defaults_without_a_file(tmp_path):
    config = Config.load(tmp_path)
    assert not config.found
    assert config.hosts == {"local": "qemu:///system", "lxc": "lxc:///system"}
    assert config.default_host == "local" and config.placement == {}
    assert config.host_for_hypervisor(Hypervisor.LXC) == "lxc"
    assert config.host_for_hypervisor(Hypervisor.QEMU) == "local"
    assert config.ondemand.listen == "127.0.0.1:6653" and config.ondemand.idle_shutdown == 0


def test_every_key_is_read(tmp_path):
    config = Config.load(write(tmp_path, FULL))
    assert config.found and config.path == tmp_path / "rfconsole.toml"
    assert config.hosts["lab2"] == "qemu+ssh://lab2/system"
    assert config.default_host == "lab2" and config.stats_interval == 0.5
    assert config.placement == {"rfvmA": "local"}
    assert config.host_for_hypervisor(Hypervisor.KVM) == "local"
    assert config.host_for_hypervisor(Hypervisor.QEMU) == "lab2"
    assert config.host_for_hypervisor(Hypervisor.LXC) == "lxc"  # the lxc:// host
    ondemand = config.ondemand
    assert (ondemand.listen_host, ondemand.listen_port) == ("0.0.0.0", 6653)
    assert ondemand.routeflow_config == tmp_path / "rftest/rftest2config.csv"
    assert ondemand.idle_shutdown == 300
    assert ondemand.map == {5: ("rfvmA",), 0x7266767372667673: ("rfvmB", "rfvmC")}
    assert config.host_name_for_uri("lxc:///system") == "lxc"


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ('[hosts]\nlocal = "kvm"\n', "hosts.local", "'kvm'"),
        ('[hosts]\nlocal = "kvm:///"\n', "hosts.local", "'kvm:///'"),
        ('default_host = "nowhere"\n', "default_host", "'nowhere'"),
        ('[placement]\nrfvmA = "lab9"\n', "placement.rfvmA", "'lab9'"),
        ('[hypervisors]\nxen = "local"\n', "hypervisors.xen", "'local'"),
        ('stats_interval = "fast"\n', "stats_interval", "'fast'"),
        ('[ondemand]\nlisten = "localhost"\n', "ondemand.listen", "'localhost'"),
        ('[ondemand]\nlisten = "127.0.0.1:70000"\n', "ondemand.listen", "'127.0.0.1:70000'"),
        ('[ondemand]\nidle_shutdown = -1\n', "ondemand.idle_shutdown", "-1"),
        ('[ondemand.map]\n"five" = ["rfvmA"]\n', 'ondemand.map."five"', "['rfvmA']"),
        ('[ondemand.map]\n"0x10000000000000000" = ["rfvmA"]\n', 'ondemand.map."0x10000000000000000"', "['rfvmA']"),
        ('[ondemand.map]\n"5" = [""]\n', 'ondemand.map."5"', "['']"),
        ('colour = "blue"\n', "colour", "'blue'"),
        ("hosts = 3\n", "hosts", "3"),
    ],
)
def test_bad_values_name_file_key_and_value(tmp_path, text, key, value):
    with pytest.raises(ConfigError) as error:
        Config.load(write(tmp_path, text))
    message = error.value.message
    assert message.startswith(f"{tmp_path / 'rfconsole.toml'}: {key} = {value}: "), message
    assert error.value.hint


def test_broken_toml_names_the_file_and_line(tmp_path):
    with pytest.raises(ConfigError) as error:
        Config.load(write(tmp_path, "[hosts\nlocal = 1\n"))
    assert "rfconsole.toml: not valid TOML" in error.value.message and "line 1" in error.value.message


def test_the_fleet_reads_its_stats_interval_from_the_file(tmp_path):
    from rfconsole.store import Store
    from rfconsole.virt.fleet import Fleet

    fleet = Fleet(Config.load(write(tmp_path, "stats_interval = 0.5\n")), Store(tmp_path), demo=True)
    try:
        assert fleet.stats_interval == 0.5
    finally:
        fleet.close()


NAMES_LIBVIRT_TAKES = ["foo=1,bar=2", "__hidden", "rfvm ä", "a.b-c_d", "x" * 100]
NAMES_LIBVIRT_REFUSES = ["lab/vm1", "two\nlines", "tab\there"]


@pytest.mark.parametrize("name", NAMES_LIBVIRT_TAKES + NAMES_LIBVIRT_REFUSES)
def test_placement_and_the_model_take_the_same_vm_names(tmp_path, name):
    """[placement] and [ondemand.map] name VMs by libvirt's own rule, the model's (a VM read from
    any libvirt XML can be placed), not the stricter rule for names rfconsole creates."""
    import json

    from rfconsole.model.errors import InvalidSpec
    from rfconsole.model.spec import DomainSpec

    try:
        DomainSpec.read({"hypervisor": "test", "name": name})
        model_takes = True
    except InvalidSpec:
        model_takes = False
    key = json.dumps(name)  # a TOML basic string is a JSON string
    try:
        config = Config.load(write(tmp_path, f'[placement]\n{key} = "local"\n[ondemand.map]\n"5" = [{key}]\n'))
        config_takes = True
    except ConfigError as refused:
        config_takes = False
        assert "placement." in refused.message and "the key must be a VM name: " in refused.message
        assert ("cannot contain '/'" in refused.message) or ("control characters" in refused.message)
    assert config_takes is model_takes is (name in NAMES_LIBVIRT_TAKES)
    if config_takes:
        assert config.placement == {name: "local"} and config.ondemand.map == {5: (name,)}
