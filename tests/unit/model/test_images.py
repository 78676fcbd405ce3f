"""Images/: bases, overlays and their safety rules, with the real qemu-img (Debian qemu-utils)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from rfconsole.cli import main
from rfconsole.images import ImageError, Images, image_info
from rfconsole.model.rftest2 import RFTEST2_VMS
from rfconsole.store import Store, Workdir

MIB = 1024 * 1024


def qemu_io(path: Path, command: str) -> str:
    """Run one qemu-io command on an image file; its output (a pattern mismatch exits 1, so the
    output says what happened, and an unreadable image fails the test)."""
    result = subprocess.run(["qemu-io", "-c", command, str(path)], capture_output=True, text=True, check=False)
    if "can't open" in result.stderr:
        pytest.fail(f"qemu-io cannot open {path}: {result.stderr.strip()}")
    return result.stdout + result.stderr


def holds(path: Path, pattern: int, offset: str, length: str) -> bool:
    """Whether ``length`` bytes at ``offset`` of the guest's view of the image are all ``pattern``."""
    output = qemu_io(path, f"read -P {pattern:#x} {offset} {length}")
    return "Pattern verification failed" not in output and "read " in output


@pytest.fixture
def workdir(tmp_path: Path) -> Workdir:
    folder = Workdir(tmp_path / "lab")
    folder.xml_dir.mkdir(parents=True)
    folder.images_dir.mkdir()
    return folder


@pytest.fixture
def source_image(tmp_path: Path) -> Path:
    """A 64 MiB qcow2 'OS image' with 8 MiB of data (pattern 0x11) at its start."""
    path = tmp_path / "debian12.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "64M"], check=True)
    qemu_io(path, "write -P 0x11 0 8M")
    return path


@pytest.fixture
def base(workdir: Workdir, source_image: Path) -> Path:
    path, copied = Images(workdir).register_base(source_image)
    assert copied
    return path


def test_a_base_is_a_read_only_copy_in_images_base(workdir, source_image, base):
    assert base == workdir.images_dir / "base" / "debian12.qcow2"
    assert stat.S_IMODE(base.stat().st_mode) == 0o444
    assert image_info(base).format == "qcow2" and image_info(base).backing is None
    assert holds(base, 0x11, "0", "8M")
    assert Images(workdir).base("debian12") == base == Images(workdir).base("debian12.qcow2")


def test_a_raw_base_keeps_its_format_and_an_unknown_format_is_refused(workdir, tmp_path):
    raw = tmp_path / "disk.raw"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(raw), "16M"], check=True)
    path, _ = Images(workdir).register_base(raw, name="plain")
    assert path.name == "plain.img" and image_info(path).format == "raw"
    vmdk = tmp_path / "disk.vmdk"
    subprocess.run(["qemu-img", "create", "-q", "-f", "vmdk", str(vmdk), "16M"], check=True)
    with pytest.raises(ImageError, match="vmdk image; a base must be qcow2 or raw"):
        Images(workdir).register_base(vmdk)


def test_a_second_base_of_the_same_name_is_refused(workdir, source_image, base):
    with pytest.raises(ImageError, match="already a base called 'debian12'"):
        Images(workdir).register_base(source_image)


def test_an_unknown_base_names_the_known_ones(workdir, base):
    with pytest.raises(ImageError, match=r"no base image called 'ubuntu'.*bases: debian12"):
        Images(workdir).base("ubuntu")


def test_an_overlay_records_its_base_relatively_and_survives_moving_the_folder(workdir, base, tmp_path):
    images = Images(workdir)
    overlay, backup = images.create_overlay("debian12", workdir.image("h1.qcow2"))
    assert backup is None
    info = image_info(overlay)
    assert info.format == "qcow2"
    assert info.backing_text == "base/debian12.qcow2" and info.backing_format == "qcow2"
    assert info.chain == (overlay, base)
    assert info.disk_usage < MIB <= image_info(base).disk_usage
    assert holds(overlay, 0x11, "0", "8M")  # the guest sees the base through it

    moved = tmp_path / "elsewhere"
    shutil.move(str(workdir.root), moved)
    assert image_info(moved / "Images" / "h1.qcow2").backing == moved / "Images" / "base" / "debian12.qcow2"


def test_an_overlay_never_replaces_a_file_without_force_and_keeps_a_backup_with_it(workdir, base):
    images = Images(workdir)
    overlay, _ = images.create_overlay("debian12", workdir.image("h1.qcow2"))
    qemu_io(overlay, "write -P 0x22 0 64k")  # the VM's own work
    with pytest.raises(ImageError, match="already exists; not creating an overlay over it"):
        images.create_overlay("debian12", overlay)
    assert holds(overlay, 0x22, "0", "64k")

    replaced, backup = images.create_overlay("debian12", overlay, force=True)
    assert replaced == overlay and not holds(overlay, 0x22, "0", "64k")
    assert backup.parent == workdir.images_dir / ".backup"
    assert holds(backup, 0x22, "0", "64k") and holds(backup, 0x11, "1M", "64k")  # its base still found
    assert image_info(backup).backing == base


def test_an_overlay_backup_never_lands_outside_through_a_linked_backup_folder(workdir, base, tmp_path):
    """issue 16 item 6: Images/.backup a link would have taken the VM's overlay out of the folder."""
    images = Images(workdir)
    overlay, _ = images.create_overlay("debian12", workdir.image("h1.qcow2"))
    qemu_io(overlay, "write -P 0x22 0 64k")
    outside = tmp_path / "outside"
    outside.mkdir()
    images.backup_dir.symlink_to(outside)
    with pytest.raises(ImageError, match=r"cannot keep a backup in .*\.backup: it is a symbolic link"):
        images.create_overlay("debian12", overlay, force=True)
    assert os.listdir(outside) == [] and holds(overlay, 0x22, "0", "64k")


def test_fresh_overlay_drops_what_the_vm_wrote(workdir, base):
    images = Images(workdir)
    overlay, _ = images.create_overlay("debian12", workdir.image("h2.qcow2"))
    qemu_io(overlay, "write -P 0x33 0 1M")
    images.fresh_overlay(overlay)
    assert holds(overlay, 0x11, "0", "1M")
    assert image_info(overlay).backing_text == "base/debian12.qcow2"
    with pytest.raises(ImageError, match="not a qcow2 overlay of a base"):
        images.fresh_overlay(base)


def test_a_base_in_use_is_never_deleted(workdir, base):
    images = Images(workdir)
    overlay, _ = images.create_overlay("debian12", workdir.image("h1.qcow2"))
    with pytest.raises(ImageError, match="in use by overlay h1.qcow2"):
        images.delete_base("debian12", Store(workdir))
    assert base.exists()
    overlay.unlink()
    assert images.delete_base("debian12", Store(workdir)) == base
    assert not base.exists()


# ---------------------------------------------------------------------------- the CLI
def cli(workdir: Workdir, *arguments: str) -> int:
    return main(["--workdir", str(workdir.root), *arguments])


def test_four_vms_over_one_base_from_the_cli(workdir, source_image, capsys):
    assert cli(workdir, "image", "base", str(source_image), "--name", "debian12") == 0
    for name in RFTEST2_VMS:
        assert cli(workdir, "xml", "new", "--hypervisor", "qemu", "--preset", name, "--base", "debian12") == 0
    capsys.readouterr()
    specs = Store(workdir).specs()
    assert {name: spec.image.name for name, spec in specs.items()} == {
        "rfvmA": "h1.qcow2", "rfvmB": "h2.qcow2", "rfvmC": "h3.qcow2", "rfvmD": "h4.qcow2",
    }
    assert 'type="qcow2"' in (workdir.xml_dir / "rfvmA.xml").read_text()

    assert cli(workdir, "image", "list", "--json") == 0
    listing = json.loads(capsys.readouterr().out)
    by_name = {Path(image["path"]).name: image for image in listing["images"]}
    assert by_name["debian12.qcow2"]["base"] and by_name["debian12.qcow2"]["used_by"] == list(RFTEST2_VMS)
    overlays = [by_name[f"h{n}.qcow2"] for n in range(1, 5)]
    assert [overlay["used_by"] for overlay in overlays] == [[name] for name in RFTEST2_VMS]
    assert all(overlay["backing_recorded"] == "base/debian12.qcow2" for overlay in overlays)
    base_usage = by_name["debian12.qcow2"]["disk_usage"]
    assert sum(overlay["disk_usage"] for overlay in overlays) < base_usage / 4  # four VMs, one base's cost
    assert listing["total_disk_usage"] == sum(image["disk_usage"] for image in listing["images"])

    assert cli(workdir, "image", "list") == 0
    text = capsys.readouterr().out
    assert "4 overlays hold" in text and "256.0 MiB as full copies" in text

    assert cli(workdir, "image", "delete", "debian12") == 1
    assert "in use by VM rfvmA, rfvmB, rfvmC, rfvmD" in capsys.readouterr().err


def test_xml_new_with_a_base_writes_nothing_when_the_xml_is_refused(workdir, source_image, capsys):
    cli(workdir, "image", "base", str(source_image))
    assert cli(workdir, "xml", "new", "--hypervisor", "qemu", "--preset", "rfvmA", "--base", "debian12") == 0
    overlay = workdir.image("h1.qcow2")
    qemu_io(overlay, "write -P 0x22 0 64k")
    before = os.stat(overlay)
    capsys.readouterr()
    assert cli(workdir, "xml", "new", "--hypervisor", "qemu", "--preset", "rfvmA", "--base", "debian12") == 1
    assert "rfvmA.xml already exists" in capsys.readouterr().err
    assert os.stat(overlay).st_ino == before.st_ino and holds(overlay, 0x22, "0", "64k")
    assert not (workdir.images_dir / ".backup").exists()


def test_xml_new_base_refusals(workdir, source_image, capsys):
    assert cli(workdir, "xml", "new", "--hypervisor", "qemu", "--name", "vm1", "--base", "nothing") == 1
    assert "no base image called 'nothing'" in capsys.readouterr().err
    cli(workdir, "image", "base", str(source_image))
    assert cli(workdir, "xml", "new", "--hypervisor", "qemu", "--name", "vm1", "--base", "debian12", "--image", "/x") == 2
    assert cli(workdir, "xml", "new", "--hypervisor", "lxc", "--name", "ct1", "--base", "debian12") == 2
    assert "LXC container's root is a folder" in capsys.readouterr().err
    assert list(workdir.xml_dir.iterdir()) == []
    assert cli(workdir, "xml", "new", "--hypervisor", "qemu", "--name", "vm1", "--base", "debian12") == 0
    assert Store(workdir).specs()["vm1"].image == workdir.image("vm1.qcow2")


# ---------------------------------------------------------------------------- a file a running VM writes
def node_with_a_running_vm(tmp_path: Path, disk: Path, readonly: bool = False, state: int = 1) -> str:
    """A test-driver node (libvirt in-process, no daemon) whose one domain runs (or is paused:
    state 3, or is shut off: 5) with ``disk`` as its writable disk (or read-only)."""
    node = tmp_path / "node.xml"
    node.write_text(f"""<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
  <domain type='test'>
    <name>writer</name>
    <memory unit='MiB'>64</memory>
    <os><type arch='x86_64'>hvm</type></os>
    <devices>
      <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{disk}'/><target dev='vda' bus='virtio'/>{'<readonly/>' if readonly else ''}</disk>
    </devices>
    <test:runstate>{state}</test:runstate>
  </domain>
</node>""")
    return f"test://{node}"


def test_image_base_of_a_disk_a_running_vm_writes_is_refused_naming_vm_and_host(workdir, source_image, tmp_path, capsys):
    uri = node_with_a_running_vm(tmp_path, source_image)
    assert main(["--workdir", str(workdir.root), "--connect", uri, "image", "base", str(source_image)]) == 1
    err = capsys.readouterr().err
    assert f"refusing to copy {source_image} as a base: domain writer on host {uri} (running) writes it; a copy taken while a guest writes may be inconsistent" in err
    assert "rfconsole shutdown writer" in err and "--force" in err
    assert not Images(workdir).bases()
    # a link to it is the same file
    link = tmp_path / "link.qcow2"
    link.symlink_to(source_image)
    assert main(["--workdir", str(workdir.root), "--connect", uri, "image", "base", str(link)]) == 1
    assert "(running) writes it" in capsys.readouterr().err
    assert main(["--workdir", str(workdir.root), "--connect", uri, "image", "base", str(source_image), "--force"]) == 0
    out, err = capsys.readouterr()
    assert "copying" in err and "the copy may be inconsistent (--force)" in err and "copied to" in out
    assert [path.name for path in Images(workdir).bases()] == ["debian12.qcow2"]


def test_image_base_of_an_overlay_over_a_disk_a_paused_vm_writes_is_refused(workdir, source_image, tmp_path, capsys):
    overlay = tmp_path / "on-top.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(source_image), str(overlay)], check=True)
    uri = node_with_a_running_vm(tmp_path, source_image, state=3)
    assert main(["--workdir", str(workdir.root), "--connect", uri, "image", "base", str(overlay)]) == 1
    assert f"domain writer on host {uri} (paused) writes {source_image}, a backing file of it" in capsys.readouterr().err


@pytest.mark.parametrize(("readonly", "state"), [(True, 1), (False, 5)])
def test_image_base_of_a_disk_only_read_or_of_a_shut_off_vm_is_copied(workdir, source_image, tmp_path, readonly, state, capsys):
    uri = node_with_a_running_vm(tmp_path, source_image, readonly=readonly, state=state)
    assert main(["--workdir", str(workdir.root), "--connect", uri, "image", "base", str(source_image)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_image_base_without_any_host_says_it_checked_none(workdir, source_image, capsys):
    assert main(["--workdir", str(workdir.root), "image", "base", str(source_image)]) == 0
    assert "no host to ask (neither --connect nor an rfconsole.toml): not checked whether a running VM writes" in capsys.readouterr().err


def test_xml_new_base_force_never_replaces_an_overlay_that_is_a_link(workdir, source_image, tmp_path, capsys):
    """A link found in Images/ is not the user's to replace through (issue 16 item 6)."""
    cli(workdir, "image", "base", str(source_image))
    elsewhere = tmp_path / "precious.img"
    elsewhere.write_bytes(b"someone's data")
    (workdir.images_dir / "vm1.qcow2").symlink_to(elsewhere)
    assert cli(workdir, "xml", "new", "--hypervisor", "qemu", "--name", "vm1", "--base", "debian12", "--force") == 1
    assert "is a symbolic link; rfconsole does not replace an image through a link it did not make" in capsys.readouterr().err
    assert (workdir.images_dir / "vm1.qcow2").is_symlink() and elsewhere.read_bytes() == b"someone's data"
    assert not (workdir.xml_dir / "vm1.xml").exists()
