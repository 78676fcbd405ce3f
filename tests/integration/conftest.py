"""Fixtures for the tests against the real daemons (scripts/daemons.sh) and the tiny guest
(scripts/build-guest.sh).

A missing daemon or guest is a failure, never a skip: CI must not pass by testing nothing.
The truth is checked with ``virsh`` (a separate client) rather than through rfconsole itself.
Every domain a test makes is named ``rfit-…`` or is one of rftest2's rfvmA–rfvmD (or rfvmE, the
fifth router a clone makes); the ``clean_libvirt`` fixture destroys and undefines those (with
their snapshots) before and after each test that uses it.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
import tty
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.common import DAEMONS_LOCK, hold_daemons_lock
from rfconsole.config import Config
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import RFTEST2_VMS, preset_spec
from rfconsole.model.spec import DomainSpec, Hypervisor, KernelBoot
from rfconsole.store import Store, Workdir
from rfconsole.virt.fleet import Fleet
from tests.event_recorder import (
    EventRecorder as EventRecorder,  # re-exported: test_events imports it from here
)

REPO = Path(__file__).resolve().parents[2]
GUEST_DIR = REPO / ".cache" / "guest"
DAEMONS_SCRIPT = REPO / "scripts" / "daemons.sh"
RFCONSOLE = REPO / ".venv" / "bin" / "rfconsole"

QEMU_URI = "qemu:///system"
LXC_URI = "lxc:///system"
TCP_URI = "qemu+tcp://127.0.0.1/system"
# The second libvirtd (scripts/daemons.sh: its own dirs and host_uuid, sshd on 127.0.0.1:2222)
HOST2_KEY = Path("/var/lib/rfconsole-host2/client_key")
HOST2_URI = f"qemu+ssh://root@127.0.0.1:2222/system?keyfile={HOST2_KEY}&no_verify=1"
TEST_PREFIX = "rfit-"
RFTEST2_NAMES = tuple(RFTEST2_VMS)
CLONE_NAMES = ("rfvmE",)  # rftest2's naming extended: `rfconsole clone rfvmA rfvmE`
READY_MARKER = "RFCONSOLE-GUEST-READY"  # what the tiny guest's /init prints (scripts/build-guest.sh)
GUEST_CMDLINE = "console=ttyS0 rdinit=/init panic=-1"
GUEST_MEMORY_MIB = 128
DATA_BRIDGE = "dp0"
# Shared with bench/redeploy.py: one user of the real daemons at a time on a machine.
DAEMON_HINT = "start them with: scripts/daemons.sh start (make test does it)"


# ---------------------------------------------------------------------------- virsh, the witness
def virsh(uri: str, *args: str, check: bool = True, timeout: float = 60) -> str:
    """Run ``virsh -c uri args…`` and return its stdout; a failure (with check) fails the test."""
    result = subprocess.run(
        ["virsh", "-q", "-c", uri, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        pytest.fail(f"virsh -c {uri} {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def domain_names(uri: str) -> list[str]:
    return [line.strip() for line in virsh(uri, "list", "--all", "--name").splitlines() if line.strip()]


def domain_state(uri: str, name: str) -> str | None:
    """virsh domstate's words (``running``, ``shut off`` …), or None when the domain does not exist."""
    result = subprocess.run(["virsh", "-q", "-c", uri, "domstate", name], capture_output=True, text=True, timeout=60)
    return result.stdout.strip() if result.returncode == 0 else None


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "the condition") -> None:
    """Poll ``predicate`` every 20 ms; fail the test (saying ``what``) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.02)


class SerialConsole:
    """A running QEMU guest's serial console (its pty, as ``virsh ttyconsole`` names it), held open
    so nothing the guest prints is lost between reads (QEMU drops output while nobody has the pty)."""

    def __init__(self, uri: str, name: str) -> None:
        self.name = name
        self.output = b""
        self._descriptor = os.open(virsh(uri, "ttyconsole", name).strip(), os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self._descriptor)

    def read_until(self, marker: str, timeout: float = 60.0, start: int = 0) -> str:
        """Read until ``marker`` shows in what the guest printed from byte ``start`` on; that text.
        Fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while marker.encode() not in self.output[start:]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"{self.name} did not print {marker} on its console within {timeout:.0f}s; it printed: {self.output[start:][-500:]!r}")
            readable, _, _ = select.select([self._descriptor], [], [], min(remaining, 0.5))
            if readable:
                try:
                    self.output += os.read(self._descriptor, 65536)
                except (BlockingIOError, InterruptedError):
                    pass
        return self.output[start:].decode(errors="replace")

    def send(self, line: str) -> None:
        """Type ``line`` and Enter into the guest's shell."""
        os.write(self._descriptor, line.encode() + b"\n")

    def close(self) -> None:
        os.close(self._descriptor)

    def __enter__(self) -> SerialConsole:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def console_output_until(uri: str, name: str, marker: str, timeout: float = 60.0) -> str:
    """Read the running guest's serial console until ``marker`` shows; fail after ``timeout``.
    Call this right after the start: the tiny guest prints its marker seconds later, at the end of its boot."""
    with SerialConsole(uri, name) as console:
        return console.read_until(marker, timeout)


def remove_test_domains(uri: str) -> None:
    """Destroy and undefine every rfit-…, rfvmA–rfvmD and rfvmE domain on ``uri`` (a domain
    with snapshots is undefined with their metadata: plain undefine refuses it)."""
    for name in domain_names(uri):
        if name.startswith(TEST_PREFIX) or name in RFTEST2_NAMES or name in CLONE_NAMES:
            virsh(uri, "destroy", name, check=False)
            virsh(uri, "undefine", "--snapshots-metadata", name, check=False)
            if name in domain_names(uri):
                virsh(uri, "undefine", name, check=False)  # a driver without snapshots (LXC) may refuse the flag


# ---------------------------------------------------------------------------- daemons and guest
def _answers(uri: str) -> str | None:
    """None when ``uri`` answers, else virsh's complaint."""
    try:
        result = subprocess.run(["virsh", "-c", uri, "version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    return None if result.returncode == 0 else (result.stderr.strip() or f"exit {result.returncode}")


@pytest.fixture(scope="session")
def daemons_lock() -> Iterator[None]:
    """Hold the machine's one set of daemons for this session: another integration session (or
    ``python -m bench redeploy``) on the same machine would destroy our rfvmA–rfvmD and rfit-…
    guests, so it waits here until we are done (and we wait for it)."""
    with hold_daemons_lock(f"waiting for another integration session or benchmark to release {DAEMONS_LOCK}"):
        yield


@pytest.fixture(scope="session")
def daemons(daemons_lock: None) -> None:
    """libvirtd (QEMU, LXC and TCP) must answer: fail, with the way to fix it, when it does not."""
    if shutil.which("virsh") is None:
        pytest.fail("virsh is missing: install libvirt-clients (scripts/setup.sh does)")
    for uri in (QEMU_URI, LXC_URI, TCP_URI):
        problem = _answers(uri)
        if problem is not None:
            pytest.fail(f"libvirtd does not answer on {uri}: {problem}; {DAEMON_HINT}")


@pytest.fixture(scope="session")
def dp0_bridge(daemons: None) -> str:
    """rftest2's Open vSwitch data bridge dp0, in userspace (datapath_type=netdev)."""
    result = subprocess.run(
        ["ovs-vsctl", "--timeout=10", "--may-exist", "add-br", DATA_BRIDGE, "--", "set", "bridge", DATA_BRIDGE, "datapath_type=netdev"],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"cannot create the Open vSwitch bridge {DATA_BRIDGE}: {result.stderr.strip()}; {DAEMON_HINT}")
    return DATA_BRIDGE


@dataclass(frozen=True)
class Guest:
    """The tiny guest scripts/build-guest.sh builds."""

    kernel: Path
    initrd: Path
    lxc_rootfs: Path
    cmdline: str = GUEST_CMDLINE

    @property
    def kernel_boot(self) -> KernelBoot:
        return KernelBoot(kernel=self.kernel, initrd=self.initrd, cmdline=self.cmdline)


@pytest.fixture(scope="session")
def guest() -> Guest:
    files = Guest(GUEST_DIR / "vmlinuz", GUEST_DIR / "initrd.img", GUEST_DIR / "lxc-rootfs")
    missing = [str(path) for path in (files.kernel, files.initrd, files.lxc_rootfs / "init") if not path.exists()]
    if missing:
        pytest.fail(f"the tiny guest is not built ({', '.join(missing)} missing); run scripts/build-guest.sh")
    return files


@pytest.fixture
def clean_libvirt(daemons: None) -> Iterator[None]:
    """No rfit-…, rfvmA–rfvmD or rfvmE domain before the test, none left after it."""
    for uri in (QEMU_URI, LXC_URI):
        remove_test_domains(uri)
    yield
    for uri in (QEMU_URI, LXC_URI):
        remove_test_domains(uri)


@pytest.fixture(scope="session")
def host2(daemons: None) -> str:
    """The second libvirtd's URI (qemu+ssh); it must answer."""
    problem = _answers(HOST2_URI)
    if problem is not None:
        pytest.fail(f"the second libvirtd does not answer on {HOST2_URI}: {problem}; {DAEMON_HINT}")
    return HOST2_URI


@pytest.fixture
def clean_host2(host2: str, clean_libvirt: None) -> Iterator[str]:
    """clean_libvirt on both daemons: no rfit-… or rfvmA–rfvmE domain on either before or after."""
    remove_test_domains(host2)
    yield host2
    remove_test_domains(host2)


def kill_host2() -> None:
    result = subprocess.run([str(DAEMONS_SCRIPT), "kill-host2"], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        pytest.fail(f"scripts/daemons.sh kill-host2 failed: {result.stderr.strip()}")


def start_daemons() -> None:
    result = subprocess.run([str(DAEMONS_SCRIPT), "start"], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        pytest.fail(f"scripts/daemons.sh start failed: {result.stderr.strip()}")


# ---------------------------------------------------------------------------- a libvirt network with DHCP
DHCP_NETWORK = "rfit-net"  # also its bridge's name (at most 15 characters)
# mode='open': libvirt adds no firewall rules. With any other mode (nat, route, or none: isolated)
# libvirt 9.0 runs iptables, which this machine does not have (measured: "cannot execute binary
# /usr/sbin/iptables"), and NAT rules would change the shared host's firewall for every test.
DHCP_NETWORK_XML = """<network>
  <name>{name}</name>
  <forward mode='open'/>
  <bridge name='{name}' stp='off' delay='0'/>
  <ip address='{prefix}.1' netmask='255.255.255.0'>
    <dhcp><range start='{prefix}.10' end='{prefix}.99'/></dhcp>
  </ip>
</network>
"""


@dataclass(frozen=True)
class DhcpNetwork:
    name: str
    prefix: str  # the /24's first three numbers: "192.168.213"

    def holds(self, address: str) -> bool:
        return address.startswith(self.prefix + ".")


def _free_subnet_prefix() -> str:
    """The first 192.168.N.0/24 (N from 213) no address or route of this machine is in."""
    taken = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    taken += subprocess.run(["ip", "-4", "route"], capture_output=True, text=True, check=True).stdout
    for third in range(213, 254):
        if f"192.168.{third}." not in taken:
            return f"192.168.{third}"
    pytest.fail("no free 192.168.N.0/24 for the test network")


def _remove_network(name: str) -> None:
    if name in virsh(QEMU_URI, "net-list", "--all", "--name").split():
        virsh(QEMU_URI, "net-destroy", name, check=False)
        virsh(QEMU_URI, "net-undefine", name, check=False)  # a leftover persistent one


@pytest.fixture
def dhcp_network(daemons: None, tmp_path: Path) -> Iterator[DhcpNetwork]:
    """A transient libvirt network ``rfit-net`` on a free /24, with libvirt's dnsmasq serving DHCP
    (the QEMU and LXC drivers of the one libvirtd share it); destroyed after the test. A guest
    NIC on it (Interface(network="rfit-net")) that runs udhcpc gets a lease libvirt reports."""
    _remove_network(DHCP_NETWORK)
    network = DhcpNetwork(DHCP_NETWORK, _free_subnet_prefix())
    definition = tmp_path / "rfit-net.xml"
    definition.write_text(DHCP_NETWORK_XML.format(name=network.name, prefix=network.prefix))
    virsh(QEMU_URI, "net-create", str(definition))
    try:
        yield network
    finally:
        _remove_network(DHCP_NETWORK)


# ---------------------------------------------------------------------------- working folders
@pytest.fixture
def workdir(tmp_path: Path) -> Workdir:
    """An empty working folder with XML/ and Images/."""
    folder = Workdir(tmp_path / "work")
    folder.xml_dir.mkdir(parents=True)
    folder.images_dir.mkdir()
    return folder


def qemu_spec(name: str, guest: Guest, **overrides) -> DomainSpec:
    """A tiny TCG guest booting the kernel and initramfs directly (no disk, no NIC)."""
    settings = {"hypervisor": Hypervisor.QEMU, "name": name, "memory": GUEST_MEMORY_MIB, "kernel_boot": guest.kernel_boot}
    settings.update(overrides)
    return DomainSpec(**settings)


def rftest2_spec(name: str, guest: Guest, workdir: Workdir, with_nics: bool = True) -> DomainSpec:
    """rftest2's preset for ``name`` as a tiny TCG guest: its data NICs on dp0 (Open vSwitch,
    userspace), no management NIC (lxcbr0 does not exist here), kernel boot instead of the image."""
    spec = preset_spec(name, Hypervisor.QEMU, workdir, management_bridge=None, memory=GUEST_MEMORY_MIB, kernel_boot=guest.kernel_boot)
    return spec.with_changes(image=None, image_kind=None, **({} if with_nics else {"interfaces": ()}))


def save_spec(workdir: Workdir, spec: DomainSpec) -> Path:
    """Write ``spec`` into the folder's XML/ through the model and the store."""
    return Store(workdir).save(DomainDocument.from_spec(spec))


@pytest.fixture
def rftest2_workdir(workdir: Workdir, guest: Guest, dp0_bridge: str) -> Workdir:
    """A working folder whose XML/ holds rfvmA–rfvmD as tiny TCG guests with their data NICs on dp0."""
    for name in RFTEST2_NAMES:
        save_spec(workdir, rftest2_spec(name, guest, workdir))
    return workdir


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user runs it."""
    return subprocess.run([str(RFCONSOLE), *args], capture_output=True, text=True, cwd=cwd, timeout=timeout, check=False)


def restart_libvirtd() -> None:
    result = subprocess.run([str(DAEMONS_SCRIPT), "restart-libvirtd"], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        pytest.fail(f"scripts/daemons.sh restart-libvirtd failed: {result.stderr.strip()}")


# ---------------------------------------------------------------------------- the console on real hosts
def hosts_line(app) -> str:
    """What the home screen's line of hosts says."""
    return str(app.screen.query_one("#hosts").render())


def row_state(app, name: str) -> str | None:
    """The State cell of ``name``'s row on the home screen; None while it has no row."""
    table = app.screen.query_one("DomainTable")
    rows = [table.get_row_at(index) for index in range(table.row_count)]
    return next((str(row[4]) for row in rows if str(row[1]) == name), None)


# ---------------------------------------------------------------------------- events
# ---------------------------------------------------------------------------- rfconsole's side
@pytest.fixture
def open_fleet(daemons: None) -> Iterator[Callable[[Workdir, str], Fleet]]:
    """``open_fleet(workdir, uri)``: a Fleet on one real host (as ``--connect uri``), closed after the test."""
    opened: list[Fleet] = []

    def make(folder: Workdir, uri: str = QEMU_URI) -> Fleet:
        fleet = Fleet(Config.load(folder), Store(folder), connect=uri)
        opened.append(fleet)
        return fleet

    yield make
    for fleet in opened:
        fleet.close()


# ---------------------------------------------------------------------------- images and disks
BASE_NAME = "tinybase"
BASE_PATTERN = 0x11  # the base's first MiB holds this byte: the guests see it through their overlays


def qemu_io(path: Path, command: str, *options: str) -> str:
    """One qemu-io command on an image file (``-U -r`` reads a file a running guest holds);
    its output. A pattern mismatch is reported in the output; an unreadable image fails the test."""
    result = subprocess.run(["qemu-io", *options, "-c", command, str(path)], capture_output=True, text=True, timeout=60, check=False)
    if "can't open" in result.stderr or "Could not open" in result.stderr:
        pytest.fail(f"qemu-io cannot open {path}: {result.stderr.strip()}")
    return result.stdout + result.stderr


def disk_holds(path: Path, pattern: int, offset: str = "0", length: str = "64k", *options: str) -> bool:
    output = qemu_io(path, f"read -P {pattern:#x} {offset} {length}", *options)
    return "read " in output and "Pattern verification failed" not in output


@pytest.fixture
def base_image(tmp_path: Path) -> Path:
    """A 64 MiB qcow2 'OS image' whose first MiB is BASE_PATTERN."""
    path = tmp_path / f"{BASE_NAME}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "64M"], check=True)
    qemu_io(path, f"write -P {BASE_PATTERN:#x} 0 1M")
    return path


@pytest.fixture
def overlay_workdir(workdir: Workdir, guest: Guest, dp0_bridge: str, base_image: Path) -> Workdir:
    """rfvmA–rfvmD as tiny TCG guests (kernel boot, data NICs on dp0), each with a qcow2 overlay
    Images/h<N>.qcow2 of one base as its disk: made with the CLI, as a user does."""
    made = run_cli("--workdir", str(workdir.root), "image", "base", str(base_image))
    assert made.returncode == 0, made.stderr
    for name in RFTEST2_NAMES:
        made = run_cli(
            "--workdir", str(workdir.root), "xml", "new", "--hypervisor", "qemu", "--preset", name, "--base", BASE_NAME,
            "--management-bridge", "none", "--memory", str(GUEST_MEMORY_MIB),
            "--kernel", str(guest.kernel), "--initrd", str(guest.initrd), "--cmdline", guest.cmdline,
        )
        assert made.returncode == 0, made.stderr
    return workdir
