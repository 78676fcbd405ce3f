"""rfconsole.toml given anything at all: a Config or one ConfigError naming the file, never a
traceback, a hang or a setting that breaks later (a timer that cannot wait `inf`)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfconsole.config import Config, ConfigError
from rfconsole.model.spec import Hypervisor


def load(tmp_path: Path, text: str) -> Config:
    (tmp_path / "rfconsole.toml").write_text(text, encoding="utf-8")
    return Config.load(tmp_path)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('default_host = ["local"]', "default_host = ['local']: must be one of the hosts"),
        ("default_host = {a = 1}", "default_host = {'a': 1}: must be one of the hosts"),
        ('[placement]\nrfvmA = ["local"]', "placement.rfvmA = ['local']: must be one of the hosts"),
        ("[placement]\nrfvmA = {x = 1}", "placement.rfvmA = {'x': 1}: must be one of the hosts"),
        ('[hypervisors]\nlxc = ["lxc"]', "hypervisors.lxc = ['lxc']: must be one of the hosts"),
        ("[ondemand]\nidle_shutdown = inf", "ondemand.idle_shutdown = inf: must be a number of seconds from 0"),
        ("[ondemand]\nidle_shutdown = nan", "ondemand.idle_shutdown = nan: must be a number of seconds from 0"),
        ("[ondemand]\nidle_shutdown = 1e300", "ondemand.idle_shutdown = 1e+300"),
        ('[ondemand]\nrouteflow_config = "/a\\u0000b"', "must not contain control characters"),
        (f'[ondemand]\nrouteflow_config = "/{"x" * 300}"', "at most 255"),
        ('[ondemand]\nlisten = "127.0.0.1\\u0000:6653"', "ondemand.listen"),
        ('[hosts]\nlocal = "qemu:///sys\\u0007tem"', "hosts.local"),
        ("a = " + "[" * 5000 + "]" * 5000, "nested too deep"),
        ("x = {" * 5000, "nested too deep"),
    ],
    ids=lambda value: value[:24],
)
def test_wrong_types_and_values_are_refused_in_words(tmp_path, text, words):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert words in caught.value.message and str(tmp_path / "rfconsole.toml") in caught.value.message


def test_a_long_value_is_shortened_in_the_message(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, "default_host = [" + ", ".join(["1"] * 10000) + "]")
    assert len(caught.value.message) < 400


def test_invalid_utf8_names_the_line(tmp_path):
    (tmp_path / "rfconsole.toml").write_bytes(b'default_host = "local"\n# caf\xe9\n')
    with pytest.raises(ConfigError, match=r"line 2: not UTF-8"):
        Config.load(tmp_path)


@pytest.mark.parametrize("kind", ["fifo", "folder", "link to a fifo"])
def test_a_config_that_is_not_a_regular_file_is_refused_at_once(tmp_path, kind):
    path = tmp_path / "rfconsole.toml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(tmp_path / "pipe")
        path.symlink_to(tmp_path / "pipe")
    with pytest.raises(ConfigError, match="is a (FIFO|folder)"):
        Config.load(tmp_path)


def test_a_name_too_long_for_the_file_system_is_an_error_not_a_crash(tmp_path):
    with pytest.raises(ConfigError, match="File name too long"):
        Config.load(tmp_path / ("x" * 300))


# ---------------------------------------------------------------------------- generated documents
KEYS = ["default_host", "stats_interval", "hosts", "placement", "hypervisors", "ondemand", "listen", "routeflow_config",
        "idle_shutdown", "map", "local", "lxc", "kvm", "qemu", "rfvmA", "5", "0x7266767372667673"]
scalars = (
    st.text(max_size=30)
    | st.sampled_from(["local", "lxc", "qemu:///system", "lxc:///system", "127.0.0.1:6653", "/tmp/x.csv", "rfvmA", "kvm:///"])
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
documents = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), values, max_size=6)


def toml_string(text: str) -> str:
    escaped = []
    for char in text:
        if char in '"\\' or not char.isprintable():
            escaped.append(f"\\U{ord(char):08x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return "{" + ", ".join(f"{toml_string(key)} = {toml_value(item)}" for key, item in value.items()) + "}"


def toml_document(data: dict) -> str:
    return "\n".join(f"{toml_string(key)} = {toml_value(value)}" for key, value in data.items()) + "\n"


def use(config: Config) -> None:
    """What rfconsole does with a loaded config: nothing here may raise."""
    for hypervisor in Hypervisor:
        assert config.host_for_hypervisor(hypervisor) in config.hosts
    assert config.default_host in config.hosts
    assert all(host in config.hosts for host in config.placement.values())
    assert math.isfinite(config.ondemand.idle_shutdown) and config.ondemand.idle_shutdown >= 0
    assert math.isfinite(config.stats_interval)
    assert 1 <= config.ondemand.listen_port <= 65535 and config.ondemand.listen
    if config.ondemand.routeflow_config is not None:
        config.ondemand.routeflow_config.exists()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=documents)
def test_any_document_gives_a_config_or_one_config_error(tmp_path, data):
    try:
        config = load(tmp_path, toml_document(data))
    except ConfigError as error:
        assert error.message.startswith(str(tmp_path / "rfconsole.toml"))
        return
    use(config)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_any_text_gives_a_config_or_one_config_error(tmp_path, text):
    try:
        config = load(tmp_path, text)
    except ConfigError:
        return
    use(config)
