"""The working folder's ``rfconsole.toml``: hosts, placement, on-demand boot settings.

Every key is optional; without the file, defaults that work on a single machine::

    default_host = "local"            # where VMs with no placement live
    stats_interval = 2.0              # seconds between CPU/memory samples

    [hosts]                           # name = libvirt URI
    local = "qemu:///system"
    lxc = "lxc:///system"
    lab2 = "qemu+ssh://lab2/system"

    [placement]                       # VM name = host name
    rfvmA = "lab2"

    [hypervisors]                     # hypervisor = host name, for VMs with no placement
    lxc = "lxc"

    [ondemand]
    listen = "127.0.0.1:6653"
    routeflow_config = "rftest/rftest2config.csv"   # relative to the working folder
    idle_shutdown = 0                 # seconds a VM may idle after its switch leaves; 0 = never
    max_per_address = 64              # switch connections accepted from one IP address

    [ondemand.map]                    # datapath id (decimal, or hex with 0x) = VM names
    "5" = ["rfvmA"]

A bad file is an RfconsoleError naming the file, the key and the value.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from rfconsole.defaults import DEFAULT_LISTEN
from rfconsole.errors import RfconsoleError
from rfconsole.model.kinds import Hypervisor
from rfconsole.model.rftest2 import datapath_id_problem, parse_datapath_id
from rfconsole.model.safexml import read_untrusted_file
from rfconsole.model.text import domain_name_problem, path_problem, text_problem

CONFIG_FILE = "rfconsole.toml"
DEFAULT_HOSTS = {"local": "qemu:///system", "lxc": "lxc:///system"}
DEFAULT_HOST = "local"
DEFAULT_STATS_INTERVAL = 2.0
URI_RE = re.compile(r"[a-z][a-z0-9+.-]*://[^\s]*")
HOST_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
TOP_KEYS = {"default_host", "stats_interval", "hosts", "placement", "hypervisors", "ondemand"}
ONDEMAND_KEYS = {"listen", "routeflow_config", "idle_shutdown", "map", "max_per_address"}
DEFAULT_MAX_PER_ADDRESS = 64
MAX_PER_ADDRESS_LIMIT = 4096
IDLE_SHUTDOWN_MAX = 30 * 24 * 3600  # also keeps inf and nan out (a timer cannot wait forever)
MAX_CONFIG_BYTES = 1024 * 1024


def _short(value: Any) -> str:
    """A value for a message: its repr, at most 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class ConfigError(RfconsoleError):
    """rfconsole.toml has a key or value rfconsole cannot use."""


@runtime_checkable
class HasConfigPath(Protocol):
    """A working folder (rfconsole.store.Workdir, beside this module in the layers)."""

    @property
    def config_path(self) -> Path: ...


@dataclass(frozen=True)
class OndemandSettings:
    listen_host: str = DEFAULT_LISTEN[0]
    listen_port: int = DEFAULT_LISTEN[1]
    routeflow_config: Path | None = None
    idle_shutdown: float = 0.0  # seconds; 0 = never shut a VM down
    map: dict[int, tuple[str, ...]] = field(default_factory=dict)  # datapath id -> VM names
    max_per_address: int = DEFAULT_MAX_PER_ADDRESS  # switch connections accepted from one IP address

    @property
    def listen(self) -> str:
        return f"{self.listen_host}:{self.listen_port}"


@dataclass(frozen=True)
class Config:
    """The settings in force: from ``path`` when it exists (``found``), else the defaults."""

    path: Path | None = None
    found: bool = False
    hosts: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_HOSTS))
    default_host: str = DEFAULT_HOST
    placement: dict[str, str] = field(default_factory=dict)
    hypervisors: dict[Hypervisor, str] = field(default_factory=dict)
    stats_interval: float = DEFAULT_STATS_INTERVAL
    ondemand: OndemandSettings = field(default_factory=OndemandSettings)

    @classmethod
    def load(cls, workdir: HasConfigPath | str | os.PathLike[str]) -> Config:
        """``<workdir>/rfconsole.toml`` (``workdir`` a Workdir or a folder), or the defaults."""
        path = workdir.config_path if isinstance(workdir, HasConfigPath) else Path(workdir) / CONFIG_FILE
        try:
            os.stat(path)
        except FileNotFoundError:
            return cls(path=path, found=False)
        except (OSError, ValueError) as error:
            raise ConfigError(f"{path}: cannot read it: {getattr(error, 'strerror', None) or error}") from None
        try:
            data = read_untrusted_file(path, limit=MAX_CONFIG_BYTES, what=CONFIG_FILE)
        except RfconsoleError as error:
            raise ConfigError(error.message, hint=error.hint) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise ConfigError(f"{path}, line {line}: not UTF-8 text", hint="rfconsole.toml is UTF-8 text (TOML)") from None
        return cls.parse(text, path)

    @classmethod
    def parse(cls, text: str, path: Path) -> Config:
        import tomllib  # here, not at the top: without an rfconsole.toml no command pays for it

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: not valid TOML: {error}", hint="see docs/lifecycle.md for the file's layout") from None
        except RecursionError:
            raise ConfigError(f"{path}: arrays or tables nested too deep to read", hint="rfconsole.toml needs two levels at most") from None
        return _Reader(path).read(data)

    def host_for_hypervisor(self, hypervisor: Hypervisor | None) -> str:
        """The host for a VM with no placement: the [hypervisors] entry, else for LXC the first
        lxc:// host, else the default host."""
        if hypervisor is not None and hypervisor in self.hypervisors:
            return self.hypervisors[hypervisor]
        if hypervisor is Hypervisor.LXC:
            for name, uri in self.hosts.items():
                if uri.startswith("lxc"):
                    return name
        return self.default_host

    def host_name_for_uri(self, uri: str) -> str | None:
        for name, known in self.hosts.items():
            if known == uri:
                return name
        return None


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, value: Any, allowed: str) -> ConfigError:
        shown_key = key if text_problem(key, "") is None and len(key) <= 80 else _short(key)
        return ConfigError(f"{self.path}: {shown_key} = {_short(value)}: {allowed}", hint="see docs/lifecycle.md for every key")

    def host(self, key: str, host: Any, hosts: dict[str, str]) -> str:
        """``host`` when it names one of ``hosts``, else the refusal for ``key``."""
        if not isinstance(host, str) or host not in hosts:
            raise self.fail(key, host, f"must be one of the hosts: {', '.join(hosts)}")
        return host

    def table(self, data: dict, key: str) -> dict:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, value, "must be a table ([" + key + "])")
        return value

    def read(self, data: dict) -> Config:
        for key in data:
            if key not in TOP_KEYS:
                raise self.fail(key, data[key], f"unknown key; the keys are {', '.join(sorted(TOP_KEYS))}")
        hosts = dict(DEFAULT_HOSTS)
        given_hosts = self.table(data, "hosts")
        if given_hosts:
            hosts = {}
        for name, uri in given_hosts.items():
            if not HOST_NAME_RE.fullmatch(name):
                raise self.fail(f"hosts.{name}", uri, "a host name uses letters, digits, '_', '.' and '-' (at most 64)")
            if not isinstance(uri, str) or not URI_RE.fullmatch(uri) or text_problem(uri, "") is not None:
                raise self.fail(f"hosts.{name}", uri, "must be a libvirt URI such as qemu:///system, lxc:///system or qemu+ssh://host/system")
            if uri.startswith("kvm:"):
                raise self.fail(f"hosts.{name}", uri, "kvm:// is not a libvirt URI: KVM guests live on qemu:///system as <domain type='kvm'>")
            hosts[name] = uri
        default_host = self.host("default_host", data.get("default_host", DEFAULT_HOST if DEFAULT_HOST in hosts else next(iter(hosts))), hosts)
        placement = {}
        for vm, host in self.table(data, "placement").items():
            problem = domain_name_problem(vm)
            if problem is not None:
                raise self.fail(f"placement.{vm}", host, f"the key must be a VM name: {problem}")
            placement[vm] = self.host(f"placement.{vm}", host, hosts)
        hypervisors = {}
        for key, host in self.table(data, "hypervisors").items():
            try:
                hypervisor = Hypervisor(key.lower())
                if not hypervisor.managed:  # libvirt knows more domain types than rfconsole runs
                    raise ValueError(key)
            except ValueError:
                raise self.fail(f"hypervisors.{key}", host, "the key must be kvm, qemu, lxc or test") from None
            hypervisors[hypervisor] = self.host(f"hypervisors.{key}", host, hosts)
        interval = data.get("stats_interval", DEFAULT_STATS_INTERVAL)
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not 0.1 <= interval <= 3600:
            raise self.fail("stats_interval", interval, "must be a number of seconds from 0.1 to 3600")
        return Config(
            path=self.path,
            found=True,
            hosts=hosts,
            default_host=default_host,
            placement=placement,
            hypervisors=hypervisors,
            stats_interval=float(interval),
            ondemand=self.ondemand(self.table(data, "ondemand")),
        )

    def ondemand(self, data: dict) -> OndemandSettings:
        for key in data:
            if key not in ONDEMAND_KEYS:
                raise self.fail(f"ondemand.{key}", data[key], f"unknown key; the keys are {', '.join(sorted(ONDEMAND_KEYS))}")
        listen = data.get("listen", f"{DEFAULT_LISTEN[0]}:{DEFAULT_LISTEN[1]}")
        valid = isinstance(listen, str) and text_problem(listen, "") is None
        match = re.fullmatch(r"\[?([^\[\]\s]*?)\]?:([0-9]{1,5})", listen) if valid else None
        if match is None or not 1 <= int(match.group(2)) <= 65535:
            raise self.fail("ondemand.listen", listen, "must be ADDRESS:PORT with a port from 1 to 65535, e.g. 127.0.0.1:6653")
        csv_path = data.get("routeflow_config")
        if csv_path is not None:
            if not isinstance(csv_path, str) or not csv_path.strip():
                raise self.fail("ondemand.routeflow_config", csv_path, "must be the path of RouteFlow's CSV file")
            problem = path_problem(csv_path, "the path")
            if problem is not None:
                raise self.fail("ondemand.routeflow_config", csv_path, problem)
            csv_path = Path(csv_path)
            if not csv_path.is_absolute():
                csv_path = self.path.parent / csv_path
        idle = data.get("idle_shutdown", 0)
        if isinstance(idle, bool) or not isinstance(idle, (int, float)) or not 0 <= idle <= IDLE_SHUTDOWN_MAX:
            raise self.fail(
                "ondemand.idle_shutdown", idle, f"must be a number of seconds from 0 (never) to {IDLE_SHUTDOWN_MAX} (30 days)"
            )
        per_address = data.get("max_per_address", DEFAULT_MAX_PER_ADDRESS)
        if isinstance(per_address, bool) or not isinstance(per_address, int) or not 1 <= per_address <= MAX_PER_ADDRESS_LIMIT:
            raise self.fail(
                "ondemand.max_per_address", per_address, f"must be a whole number of connections from 1 to {MAX_PER_ADDRESS_LIMIT}"
            )
        mapping: dict[int, tuple[str, ...]] = {}
        for key, names in self.table(data, "map").items():
            where = f'ondemand.map."{key}"'
            problem = datapath_id_problem(key)
            if problem is not None:
                raise self.fail(where, names, f"the key is {problem}")
            dp_id = parse_datapath_id(key)
            if isinstance(names, str):
                names = [names]
            if not isinstance(names, list) or not names or not all(isinstance(name, str) and domain_name_problem(name) is None for name in names):
                raise self.fail(where, names, "must be a list of VM names, e.g. [\"rfvmA\"]")
            mapping[dp_id] = tuple(names)
        return OndemandSettings(
            listen_host=match.group(1) or "0.0.0.0",
            listen_port=int(match.group(2)),
            routeflow_config=csv_path,
            idle_shutdown=float(idle),
            map=mapping,
            max_per_address=per_address,
        )
