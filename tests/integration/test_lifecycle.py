"""The lifecycle of real guests through rfconsole's Fleet, with virsh as the witness:
a QEMU (TCG) guest booting the tiny kernel and initramfs directly, and an LXC container."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rfconsole.model.spec import DomainSpec, Hypervisor
from rfconsole.virt.errors import HypervisorUnavailable, NotOwned
from rfconsole.virt.events import DomainState

from .conftest import (
    LXC_URI,
    QEMU_URI,
    READY_MARKER,
    console_output_until,
    domain_state,
    qemu_spec,
    save_spec,
    virsh,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_libvirt")]


def test_qemu_guest_defined_started_destroyed_undefined(workdir, guest, open_fleet):
    save_spec(workdir, qemu_spec("rfit-qemu", guest))
    fleet = open_fleet(workdir, QEMU_URI)

    fleet.define("rfit-qemu")
    assert domain_state(QEMU_URI, "rfit-qemu") == "shut off"
    assert "rfconsole" in virsh(QEMU_URI, "dumpxml", "--inactive", "rfit-qemu")  # the ownership mark went in

    fleet.start("rfit-qemu")
    assert domain_state(QEMU_URI, "rfit-qemu") == "running"
    assert fleet.status("rfit-qemu").state is DomainState.RUNNING
    live = virsh(QEMU_URI, "dumpxml", "rfit-qemu")
    assert str(guest.kernel) in live and "<domain type='qemu'" in live

    fleet.destroy("rfit-qemu")
    assert domain_state(QEMU_URI, "rfit-qemu") == "shut off"

    fleet.undefine("rfit-qemu")
    assert domain_state(QEMU_URI, "rfit-qemu") is None
    assert (workdir.xml_dir / "rfit-qemu.xml").exists()  # libvirt forgets it, XML/ keeps it


def test_qemu_guest_really_boots_the_tiny_kernel(workdir, guest, open_fleet):
    """Running is libvirt's word; the guest's own console marker proves the kernel reached /init."""
    save_spec(workdir, qemu_spec("rfit-boot", guest))
    fleet = open_fleet(workdir, QEMU_URI)
    fleet.up("rfit-boot")
    output = console_output_until(QEMU_URI, "rfit-boot", READY_MARKER)
    assert "Run /init as init process" in output or READY_MARKER in output
    assert fleet.down("rfit-boot", timeout=1).words.startswith("destroyed after")  # it ignores ACPI: see docs/testing.md
    assert domain_state(QEMU_URI, "rfit-boot") == "shut off"


def test_domain_not_made_by_rfconsole_is_left_alone(workdir, guest, open_fleet, tmp_path):
    """A domain without rfconsole's mark is neither destroyed nor undefined without force."""
    foreign = tmp_path / "foreign.xml"  # as another tool (virt-manager, a script) would define it
    foreign.write_text(
        "<domain type='qemu'><name>rfit-foreign</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
        f"<os><type arch='x86_64'>hvm</type><kernel>{guest.kernel}</kernel><initrd>{guest.initrd}</initrd>"
        f"<cmdline>{guest.cmdline}</cmdline></os></domain>"
    )
    virsh(QEMU_URI, "define", str(foreign))
    virsh(QEMU_URI, "start", "rfit-foreign")
    fleet = open_fleet(workdir, QEMU_URI)

    with pytest.raises(NotOwned, match="rfit-foreign"):
        fleet.destroy("rfit-foreign")
    with pytest.raises(NotOwned):
        fleet.undefine("rfit-foreign")
    # the tiny guest has no ACPI, so it ignores the graceful shutdown; the destroy after it is refused, in plain words
    with pytest.raises(NotOwned) as refused:
        fleet.down("rfit-foreign", timeout=1)
    assert refused.value.message.startswith(
        f"refusing to destroy rfit-foreign on host {fleet.host().name} ({QEMU_URI}) after it did not shut down within 1 s: "
    )
    assert refused.value.hint.startswith("to destroy it anyway, repeat with --force")
    assert domain_state(QEMU_URI, "rfit-foreign") == "running"

    fleet.destroy("rfit-foreign", force=True)
    assert domain_state(QEMU_URI, "rfit-foreign") == "shut off"


def _container_init(name: str) -> int | None:
    """The pid of the container's init: the child of libvirt_lxc --name NAME."""
    controllers = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"libvirt_lxc") and name.encode() in argv:
            controllers.append(entry)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = stat.rsplit(")", 1)[1].split()[1]
        if parent in controllers:
            return int(entry)
    return None


def test_lxc_container_reaches_running_with_its_init(workdir, guest, open_fleet):
    spec = DomainSpec(hypervisor=Hypervisor.LXC, name="rfit-lxc", memory=64, image=guest.lxc_rootfs, init="/init")
    save_spec(workdir, spec)
    fleet = open_fleet(workdir, LXC_URI)

    assert "running" in fleet.up("rfit-lxc").words
    assert domain_state(LXC_URI, "rfit-lxc") == "running"
    # memory is the container's allocation, as for a VM (libvirt's current memory of an LXC domain is its usage)
    assert fleet.status("rfit-lxc").memory_mib == 64
    wait_until(lambda: _container_init("rfit-lxc") is not None, timeout=10, what="the container's init process")
    init = _container_init("rfit-lxc")
    # The init is the tiny guest's /init, inside the rootfs folder, and it reached its interactive
    # shell on the container's console (/dev/console there: a pty slave, majors 136–143).
    assert Path(f"/proc/{init}/cmdline").read_bytes().split(b"\0")[:2] == [b"/bin/sh", b"/init"]

    def console_shell() -> bool:
        for child in Path(f"/proc/{init}/task/{init}/children").read_text().split():
            try:
                if Path(f"/proc/{child}/comm").read_text().strip() == "sh":
                    console = os.stat(f"/proc/{child}/fd/0")
                    return stat.S_ISCHR(console.st_mode) and 136 <= os.major(console.st_rdev) <= 143
            except OSError:  # the child was still exec'ing
                continue
        return False

    wait_until(console_shell, timeout=10, what="the container's /init to start its shell on the console")

    fleet.destroy("rfit-lxc")
    assert domain_state(LXC_URI, "rfit-lxc") == "shut off"
    fleet.undefine("rfit-lxc")
    assert domain_state(LXC_URI, "rfit-lxc") is None


def test_lxc_refused_on_the_qemu_host_before_anything_is_touched(workdir, guest, open_fleet):
    spec = DomainSpec(hypervisor=Hypervisor.LXC, name="rfit-misplaced", memory=64, image=guest.lxc_rootfs, init="/init")
    save_spec(workdir, spec)
    fleet = open_fleet(workdir, QEMU_URI)
    with pytest.raises(HypervisorUnavailable, match=r"cannot run rfit-misplaced \(lxc\) on host"):
        fleet.define("rfit-misplaced")
    assert domain_state(QEMU_URI, "rfit-misplaced") is None
    assert domain_state(LXC_URI, "rfit-misplaced") is None
