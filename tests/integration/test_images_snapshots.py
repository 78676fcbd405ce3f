"""Base images, overlays and snapshots on the real libvirtd with real QEMU (TCG) guests: the
tiny guest boots its kernel directly and has a qcow2 overlay of one base as its disk."""

from __future__ import annotations

import json
import subprocess

import pytest

from rfconsole.virt.snapshots import SnapshotRefused

from .conftest import (
    BASE_NAME,
    BASE_PATTERN,
    LXC_URI,
    QEMU_URI,
    RFTEST2_NAMES,
    disk_holds,
    domain_state,
    qemu_io,
    qemu_spec,
    run_cli,
    save_spec,
    virsh,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_libvirt")]

MARKER = 0x5A
QEMU_DISK = "/machine/peripheral/virtio-disk0/virtio-backend"  # the qdev of libvirt's first virtio disk


def cli(workdir, *arguments, uri=QEMU_URI):
    return run_cli("--workdir", str(workdir.root), "--connect", uri, *arguments)


def write_through_the_guest(name: str, pattern: int) -> None:
    """Write 64 KiB of ``pattern`` at offset 0 of the running guest's disk, through its own QEMU."""
    virsh(QEMU_URI, "qemu-monitor-command", "--hmp", name, f'qemu-io -d {QEMU_DISK} "write -P {pattern:#x} 0 64k"')
    virsh(QEMU_URI, "qemu-monitor-command", "--hmp", name, f'qemu-io -d {QEMU_DISK} "flush"')


def test_four_overlays_over_one_base_boot_and_cost_a_fraction_of_it(overlay_workdir):
    up = cli(overlay_workdir, "up")
    assert up.returncode == 0, up.stdout + up.stderr
    assert {name: domain_state(QEMU_URI, name) for name in RFTEST2_NAMES} == {name: "running" for name in RFTEST2_NAMES}
    base = overlay_workdir.images_dir / "base" / f"{BASE_NAME}.qcow2"
    for number, name in enumerate(RFTEST2_NAMES, start=1):
        overlay = overlay_workdir.image(f"h{number}.qcow2")
        assert virsh(QEMU_URI, "domblklist", name).split() == ["vda", str(overlay)]
        live = virsh(QEMU_URI, "dumpxml", name)
        assert f"<source file='{base}'/>" in live  # libvirt followed the relative backing path
        assert disk_holds(overlay, BASE_PATTERN, "0", "1M", "-U", "-r")

    listing = cli(overlay_workdir, "image", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    images = {image["path"]: image for image in json.loads(listing.stdout)["images"]}
    overlays = [images[str(overlay_workdir.image(f"h{n}.qcow2"))] for n in range(1, 5)]
    assert images[str(base)]["used_by"] == list(RFTEST2_NAMES)
    assert all(overlay["backing"] == str(base) and overlay["backing_format"] == "qcow2" for overlay in overlays)
    overlay_bytes = sum(overlay["disk_usage"] for overlay in overlays)
    assert overlay_bytes < images[str(base)]["disk_usage"]  # four running VMs cost less than their one base
    shown = cli(overlay_workdir, "image", "list")
    print(shown.stdout)  # the measurement, in the test's log
    assert "4 overlays hold" in shown.stdout and "rfvmA, rfvmB, rfvmC, rfvmD" in shown.stdout


def test_revert_of_a_running_guest_takes_the_marker_back(overlay_workdir):
    assert cli(overlay_workdir, "up", "rfvmA").returncode == 0
    overlay = overlay_workdir.image("h1.qcow2")
    made = cli(overlay_workdir, "snapshot", "create", "rfvmA", "clean")
    assert made.returncode == 0, made.stderr
    assert "disks and memory" in made.stdout

    write_through_the_guest("rfvmA", MARKER)
    assert disk_holds(overlay, MARKER, "0", "64k", "-U", "-r")

    reverted = cli(overlay_workdir, "snapshot", "revert", "rfvmA", "clean")
    assert reverted.returncode == 0, reverted.stderr
    assert domain_state(QEMU_URI, "rfvmA") == "running"  # taken running: back running
    virsh(QEMU_URI, "destroy", "rfvmA")
    assert not disk_holds(overlay, MARKER) and disk_holds(overlay, BASE_PATTERN)

    listed = json.loads(cli(overlay_workdir, "snapshot", "list", "rfvmA", "--json").stdout)
    assert [(snapshot["name"], snapshot["state"], snapshot["memory"], snapshot["current"]) for snapshot in listed] == [
        ("clean", "running", True, True)
    ]
    assert virsh(QEMU_URI, "snapshot-list", "--name", "rfvmA").split() == ["clean"]


def test_snapshot_of_a_shut_off_vm_then_delete(overlay_workdir):
    assert cli(overlay_workdir, "define", "rfvmB").returncode == 0
    overlay = overlay_workdir.image("h2.qcow2")
    assert cli(overlay_workdir, "snapshot", "create", "rfvmB", "before").returncode == 0
    qemu_io(overlay, f"write -P {MARKER:#x} 0 64k")  # the disk changed while the VM was off
    assert disk_holds(overlay, MARKER)
    again = cli(overlay_workdir, "snapshot", "create", "rfvmB", "before")
    assert again.returncode == 1 and "already has a snapshot called 'before'" in again.stderr

    assert cli(overlay_workdir, "snapshot", "revert", "rfvmB").returncode == 0  # the current one
    assert not disk_holds(overlay, MARKER) and disk_holds(overlay, BASE_PATTERN)
    assert domain_state(QEMU_URI, "rfvmB") == "shut off"

    deleted = cli(overlay_workdir, "snapshot", "delete", "rfvmB", "before")
    assert deleted.returncode == 0, deleted.stderr
    assert virsh(QEMU_URI, "snapshot-list", "--name", "rfvmB").strip() == ""
    missing = cli(overlay_workdir, "snapshot", "revert", "rfvmB", "before")
    assert missing.returncode == 1 and "has no snapshot called 'before'" in missing.stderr


def test_snapshots_are_refused_where_the_storage_cannot_hold_them(workdir, guest, open_fleet):
    save_spec(workdir, qemu_spec("rfit-nodisk", guest))
    raw = workdir.image("rfit-raw.img")
    raw.write_bytes(b"\0" * 1024 * 1024)
    save_spec(workdir, qemu_spec("rfit-raw", guest, image=raw))
    fleet = open_fleet(workdir, QEMU_URI)
    fleet.up("rfit-nodisk")
    fleet.up("rfit-raw")

    with pytest.raises(SnapshotRefused, match="rfit-nodisk on host .*it has no disk: a running VM's snapshot keeps its memory"):
        fleet.snapshot_create("rfit-nodisk", "s1")
    with pytest.raises(SnapshotRefused, match=r"disk vda \(.*rfit-raw.img\) is raw: internal snapshots need qcow2"):
        fleet.snapshot_create("rfit-raw", "s1")
    for name in ("rfit-nodisk", "rfit-raw"):
        assert virsh(QEMU_URI, "snapshot-list", "--name", name).strip() == ""
        assert domain_state(QEMU_URI, name) == "running"


def test_an_lxc_container_is_refused_a_snapshot_and_a_reset(workdir, guest, open_fleet):
    from rfconsole.model.spec import DomainSpec, Hypervisor

    save_spec(workdir, DomainSpec(hypervisor=Hypervisor.LXC, name="rfit-ct", memory=64, image=guest.lxc_rootfs, init="/init"))
    result = cli(workdir, "define", "rfit-ct", uri=LXC_URI)
    assert result.returncode == 0, result.stderr
    refused = cli(workdir, "snapshot", "create", "rfit-ct", uri=LXC_URI)
    assert refused.returncode == 1
    assert "cannot snapshot rfit-ct on host" in refused.stderr and "LXC driver has no snapshots" in refused.stderr
    assert "Traceback" not in refused.stderr
    reset = cli(workdir, "reset", "rfit-ct", uri=LXC_URI)
    assert reset.returncode == 1
    assert "cannot reset rfit-ct on host" in reset.stdout and "LXC container, which has neither snapshots nor overlays" in reset.stdout
    assert domain_state(LXC_URI, "rfit-ct") == "shut off"


def test_image_base_of_a_disk_a_running_guest_writes_is_refused_until_it_stops(overlay_workdir, tmp_path):
    assert cli(overlay_workdir, "up", "rfvmA").returncode == 0
    overlay = overlay_workdir.image("h1.qcow2")
    copies = overlay_workdir.images_dir / "base"
    refused = cli(overlay_workdir, "image", "base", str(overlay), "--name", "h1copy")
    assert refused.returncode == 1
    host = "local"  # the name rfconsole gives --connect qemu:///system (config.DEFAULT_HOSTS)
    assert f"refusing to copy {overlay} as a base: domain rfvmA on host {host} (running) writes it" in refused.stderr, refused.stderr
    assert "rfconsole shutdown rfvmA" in refused.stderr and "--force" in refused.stderr and "Traceback" not in refused.stderr
    on_top = tmp_path / "on-top.qcow2"  # FILE's backing chain holds the guest's disk: the copy would read it
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(overlay), str(on_top)], check=True)
    virsh(QEMU_URI, "suspend", "rfvmA")
    chained = cli(overlay_workdir, "image", "base", str(on_top), "--name", "ontop")
    assert chained.returncode == 1
    assert f"domain rfvmA on host {host} (paused) writes {overlay}, a backing file of it" in chained.stderr
    assert sorted(path.stem for path in copies.iterdir()) == [BASE_NAME]  # nothing copied

    # the base under rfvmA's overlay is only read by the guest: copying it is safe
    assert cli(overlay_workdir, "image", "base", str(copies / f"{BASE_NAME}.qcow2")).returncode == 0
    forced = cli(overlay_workdir, "image", "base", str(overlay), "--name", "h1forced", "--force")
    assert forced.returncode == 0, forced.stderr
    assert f"copying {overlay} while domain rfvmA on host {host} (paused) writes it: the copy may be inconsistent" in forced.stderr
    virsh(QEMU_URI, "destroy", "rfvmA")
    clean = cli(overlay_workdir, "image", "base", str(overlay), "--name", "h1clean")
    assert clean.returncode == 0 and "warning" not in clean.stderr, clean.stderr
    assert disk_holds(copies / "h1clean.qcow2", BASE_PATTERN)  # a whole copy: the base's data flattened in
