"""`rfconsole xml new|validate|set|show`: the headless face of the model and the store."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from rfconsole.cli import main
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import RFTEST2_VMS

VIRT_XML_VALIDATE = shutil.which("virt-xml-validate")


def run(workdir, *arguments):
    return main(["--workdir", str(workdir), "xml", *arguments])


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "Images"
    folder.mkdir()
    (folder / "h1.img").write_bytes(b"")
    return folder


def test_new_writes_xml_name_and_warns_about_a_missing_image(tmp_path, capsys):
    assert run(tmp_path, "new", "--hypervisor", "kvm", "--name", "vm1", "--image", str(tmp_path / "vm1.img"), "--memory", "256", "--vcpu", "2") == 0
    output = capsys.readouterr()
    assert "wrote" in output.out and "rfconsole: warning: image" in output.err
    spec = DomainDocument.read(tmp_path / "XML" / "vm1.xml").spec()
    assert (spec.memory, spec.vcpu, spec.id) == (256, 2, 1)


def test_new_refuses_to_overwrite_without_force(tmp_path, capsys):
    arguments = ("new", "--hypervisor", "qemu", "--preset", "rfvmA")
    assert run(tmp_path, *arguments) == 0
    assert run(tmp_path, *arguments) == 1
    assert "--force" in capsys.readouterr().err
    assert run(tmp_path, *arguments, "--vcpu", "2", "--force") == 0
    assert list((tmp_path / "XML" / ".backup").iterdir())


def test_new_force_never_replaces_what_a_link_in_xml_points_at(tmp_path, capsys):
    """issue 16 item 6: `xml new --force` over XML/NAME.xml, a link to a non-XML file, replaced it."""
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me\n")
    (tmp_path / "XML").mkdir()
    (tmp_path / "XML" / "rfvmA.xml").symlink_to(notes)
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmA", "--force") == 1
    assert "is a symbolic link to" in capsys.readouterr().err
    assert notes.read_text() == "keep me\n" and (tmp_path / "XML" / "rfvmA.xml").is_symlink()
    # named on the command line, the link is the user's: written through, the old bytes backed up
    xml_file = tmp_path / "shared.xml"
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmB", "-o", str(xml_file)) == 0
    (tmp_path / "mine.xml").symlink_to(xml_file)
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmB", "--vcpu", "3", "-o", str(tmp_path / "mine.xml"), "--force") == 0
    assert (tmp_path / "mine.xml").is_symlink() and DomainDocument.read(xml_file).spec().vcpu == 3


def test_new_with_preset_uses_rftest2_values(tmp_path, images):
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmA") == 0
    spec = DomainDocument.read(tmp_path / "XML" / "rfvmA.xml").spec()
    assert spec.image == images / "h1.img" and spec.id == 1 and len(spec.interfaces) == 5
    assert spec.interfaces[1].target_dev == "rfvmA.1"


def test_new_preset_id_falls_back_to_a_free_one(tmp_path):
    assert run(tmp_path, "new", "--hypervisor", "test", "--name", "other", "--id", "2") == 0
    assert run(tmp_path, "new", "--hypervisor", "test", "--preset", "rfvmB") == 0
    assert DomainDocument.read(tmp_path / "XML" / "rfvmB.xml").spec().id == 3


def test_new_to_stdout_and_to_a_file(tmp_path, capsys):
    assert run(tmp_path, "new", "--hypervisor", "lxc", "--name", "c1", "--no-image", "--init", "/bin/sh", "-o", "-") == 0
    out = capsys.readouterr().out
    assert DomainDocument.parse(out).spec().init == "/bin/sh"
    assert not (tmp_path / "XML").exists()
    target = tmp_path / "elsewhere" / "c1.xml"
    assert run(tmp_path, "new", "--hypervisor", "lxc", "--name", "c1", "-o", str(target)) == 1  # no folder is made for -o
    target.parent.mkdir()
    assert run(tmp_path, "new", "--hypervisor", "lxc", "--name", "c1", "-o", str(target)) == 0
    assert target.exists()


@pytest.mark.parametrize(
    ("arguments", "code", "words"),
    [
        (("new", "--name", "x"), 2, "--hypervisor"),
        (("new", "--hypervisor", "kvm"), 2, "--name"),
        (("new", "--hypervisor", "kvm", "--name", "x", "--initrd", "/i"), 2, "--kernel"),
        (("new", "--hypervisor", "xen", "--name", "x"), 1, "kvm, qemu, lxc or test"),
        (("new", "--hypervisor", "kvm", "--name", "bad name", "--image", "/a.img"), 1, "letters, digits"),
        (("new", "--hypervisor", "lxc", "--name", "x", "--os-type", "hvm"), 1, "needs OS type exe"),
        (("new", "--hypervisor", "kvm", "--name", "x"), 1, "needs an image"),
        (("new", "--hypervisor", "kvm", "--preset", "rfvmZ"), 1, "no rftest2 preset"),
        (("set",), 2, "required"),
        (("bogus",), 2, "invalid choice"),
    ],
)
def test_user_errors_have_the_right_exit_code_and_no_traceback(tmp_path, capsys, arguments, code, words):
    try:
        result = run(tmp_path, *arguments)
    except SystemExit as exit:  # argparse's own usage errors
        result = exit.code
    assert result == code
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_validate_reports_each_problem_per_file(tmp_path, capsys, seed_xml):
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmC") == 0
    good = tmp_path / "XML" / "rfvmC.xml"
    seed = tmp_path / "seed.xml"
    seed.write_bytes(seed_xml)
    broken = tmp_path / "broken.xml"
    broken.write_text("<domain type='kvm'><name>a b</name><vcpu>many</vcpu><memory>1</memory><os><type>hvm</type></os></domain>")
    capsys.readouterr()
    assert run(tmp_path, "validate", str(good)) == 0
    assert run(tmp_path, "validate", str(good), str(seed), str(broken), str(tmp_path / "none.xml")) == 1
    captured = capsys.readouterr()
    out = captured.out
    assert f"{good}: valid" in out
    assert f"{seed}: invalid" in out and "must be lower case" in out
    assert f"{broken}: invalid" in out and "vCPUs must be a whole number" in out
    assert "name: this name is not allowed" not in out
    # libvirt accepts the name 'a b': rfconsole's own rule for the names it creates is a warning
    named = tmp_path / "named.xml"
    named.write_text("<domain type='kvm'><name>a b</name><memory>1024</memory><os><type>hvm</type><kernel>/k</kernel></os></domain>")
    assert run(tmp_path, "validate", str(named)) == 0
    captured = capsys.readouterr()
    assert f"{named}: valid" in captured.out
    assert "rfconsole would not create this: name: this name is not allowed" in captured.err
    assert "none.xml: no such file" in out


def test_validate_by_vm_name(tmp_path, capsys):
    assert run(tmp_path, "new", "--hypervisor", "test", "--name", "demo1") == 0
    assert run(tmp_path, "validate", "demo1") == 0


def test_a_file_name_of_xml_is_found_like_the_console_finds_it(tmp_path, capsys, monkeypatch):
    # the store's lookup: a relative path that is not in the current directory is looked up in XML/
    assert run(tmp_path, "new", "--hypervisor", "test", "--name", "demo1") == 0
    monkeypatch.chdir(tmp_path.parent)
    assert run(tmp_path, "validate", "demo1.xml") == 0
    assert run(tmp_path, "show", "demo1.xml") == 0
    assert run(tmp_path, "set", "demo1.xml", "vcpu=2") == 0
    assert DomainDocument.read(tmp_path / "XML" / "demo1.xml").spec().vcpu == 2
    assert not (tmp_path.parent / "demo1.xml").exists()


def test_set_changes_only_the_given_fields(tmp_path, capsys, handwritten_xml):
    path = tmp_path / "rfvmB.xml"
    path.write_bytes(handwritten_xml)
    assert run(tmp_path, "set", str(path), "vcpu=3") == 0
    expected = handwritten_xml.decode().replace('<vcpu placement="static">2</vcpu>', '<vcpu placement="static">3</vcpu>')
    assert DomainDocument.read(path).canonical() == DomainDocument.parse(expected).canonical()
    assert list((tmp_path / ".backup").iterdir())


def test_set_fixes_the_seed_template(tmp_path, capsys, seed_xml):
    path = tmp_path / "seed.xml"
    path.write_bytes(seed_xml)
    out = tmp_path / "XML" / "rfvmA.xml"
    assert run(tmp_path, "set", str(path), "id=1", "memory=512", "image=" + str(tmp_path / "Images" / "h1.img"), "-o", str(out)) == 0
    assert path.read_bytes() == seed_xml  # -o leaves the original alone
    assert run(tmp_path, "validate", str(out)) == 0
    spec = DomainDocument.read(out).spec()
    assert (spec.id, spec.memory, spec.hypervisor.value) == (1, 512, "kvm")
    err = capsys.readouterr().err
    assert "'KVM' written as 'kvm'" in err


def test_set_hypervisor_switches_the_structure(tmp_path, capsys):
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmA") == 0
    path = tmp_path / "XML" / "rfvmA.xml"
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    assert run(tmp_path, "set", str(path), "hypervisor=lxc", f"image={rootfs}") == 0
    spec = DomainDocument.read(path).spec()
    assert (spec.hypervisor.value, spec.os_type.value, spec.init, spec.image_kind.value) == ("lxc", "exe", "/sbin/init", "folder")
    assert run(tmp_path, "validate", str(path)) == 0


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [("vcpu", 2, "KEY=VALUE"), ("colour=red", 2, "not a setting"), ("vcpu=0", 1, "from 1"), ("name=", 1, "cannot be empty"), ("hypervisor=lxc", 1, "cannot boot a kernel")],
)
def test_set_refusals_leave_the_file_untouched(tmp_path, capsys, change, code, words):
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--name", "k", "--kernel", "/boot/vmlinuz") == 0
    path = tmp_path / "XML" / "k.xml"
    before = path.read_bytes()
    assert run(tmp_path, "set", str(path), change) == code
    assert words in capsys.readouterr().err
    assert path.read_bytes() == before


def test_show_text_and_json(tmp_path, capsys):
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmB", "--memory", "300") == 0
    capsys.readouterr()
    assert run(tmp_path, "show", "rfvmB", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["memory"] == 300 and data["owned"] is True and data["interfaces"][1]["target_dev"] == "rfvmB.1"
    assert run(tmp_path, "show", str(tmp_path / "XML" / "rfvmB.xml")) == 0
    out = capsys.readouterr().out
    assert "memory" in out and "300" in out and "rfvmB.3" in out


NEW_CASES = [
    ("kvm", "--name", "k1", "--image", "/srv/k1.qcow2"),
    ("qemu", "--name", "q1", "--image", "/srv/q1.img", "--arch", "i686"),
    ("qemu", "--name", "q2", "--kernel", "/g/vmlinuz", "--initrd", "/g/initrd", "--cmdline", "console=ttyS0"),
    ("lxc", "--name", "l1", "--image", "/srv/l1.img"),
    ("lxc", "--name", "l2", "--no-image", "--init", "/bin/sh"),
    ("test", "--name", "t1"),
] + [(hypervisor, "--preset", vm) for vm in RFTEST2_VMS for hypervisor in ("kvm", "qemu", "lxc")]


@pytest.mark.skipif(VIRT_XML_VALIDATE is None, reason="virt-xml-validate (libvirt-clients) is not installed")
def test_virt_xml_validate_accepts_every_xml_new_writes(tmp_path, capsys):
    """libvirt's own checker, the real binary, on each kind of file `xml new` writes."""
    files = []
    for index, (hypervisor, *arguments) in enumerate(NEW_CASES):
        target = tmp_path / f"case{index}-{hypervisor}.xml"
        assert run(tmp_path, "new", "--hypervisor", hypervisor, *arguments, "-o", str(target)) == 0
        files.append(target)
    for path in files:
        result = subprocess.run([VIRT_XML_VALIDATE, str(path), "domain"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, (path.read_text(), result.stdout, result.stderr)


def test_the_cli_runs_as_a_program_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "rfconsole", "--workdir", str(tmp_path), "xml", "show", str(tmp_path / "missing.xml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "no such file" in result.stderr and "Traceback" not in result.stderr


def test_new_with_extra_nics(tmp_path, capsys):
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--name", "n1", "--kernel", "/k", "--nic", "bridge=dp0,ovs,target=n1.1,mac=02:01:01:01:01:01", "--nic", "network=default,model=virtio") == 0
    nics = DomainDocument.read(tmp_path / "XML" / "n1.xml").spec().interfaces
    assert (nics[0].bridge, nics[0].virtualport, nics[0].target_dev, nics[0].mac) == ("dp0", "openvswitch", "n1.1", "02:01:01:01:01:01")
    assert (nics[1].network, nics[1].model) == ("default", "virtio")
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmC", "--nic", "network=default") == 0
    assert len(DomainDocument.read(tmp_path / "XML" / "rfvmC.xml").spec().interfaces) == 5
    assert main(["--workdir", str(tmp_path), "xml", "new", "--hypervisor", "qemu", "--name", "n2", "--kernel", "/k", "--nic", "bridge=dp0,colour"]) == 2
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--name", "n2", "--kernel", "/k", "--nic", "bridge=dp0,mac=01:00:00:00:00:00") == 1
    assert "multicast" in capsys.readouterr().err


RFTEST2_CSV = "vm_id,vm_port,ct_id,dp_id,dp_port\n2A0A0A0A0A0,1,0,5,1\n"


def test_new_rfvmE_appends_its_rows_to_routeflows_csv(tmp_path, capsys):
    csv_file = tmp_path / "rftest2.csv"
    csv_file.write_text(RFTEST2_CSV)
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmE", "--routeflow-config", str(csv_file)) == 0
    assert f"added 4 rows to {csv_file}: rfvmE serves switch 0000000000000009" in capsys.readouterr().out
    assert csv_file.read_text() == RFTEST2_CSV + "".join(f"2E0E0E0E0E0,{port},0,9,{port}\n" for port in range(1, 5))
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmE", "--routeflow-config", str(csv_file), "--force") == 0
    assert "already maps rfvmE to switch 0000000000000009" in capsys.readouterr().out


def test_new_rfvmE_without_a_csv_prints_the_rows_to_add(tmp_path, capsys):
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmE") == 0
    out = capsys.readouterr().out
    assert "RouteFlow's CSV rows for rfvmE" in out and "  2E0E0E0E0E0,4,0,9,4" in out
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmB") == 0
    assert "RouteFlow" not in capsys.readouterr().out  # rftest2's own CSV has its four
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmF", "-o", "-") == 0
    assert "RouteFlow" not in capsys.readouterr().out  # stdout is the XML
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmF", "-o", "-", "--routeflow-config", str(tmp_path / "rf.csv")) == 0
    out, err = capsys.readouterr()
    assert out.startswith("<domain") and out.rstrip().endswith("</domain>") and "added 4 rows" in err


def test_rows_that_cannot_be_added_leave_xml_and_csv_untouched(tmp_path, capsys):
    csv_file = tmp_path / "rftest2.csv"
    csv_file.write_text(RFTEST2_CSV + "2C0C0C0C0C0,1,0,9,2\n")
    before = csv_file.read_bytes()
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmE", "--routeflow-config", str(csv_file)) == 1
    assert "line 3 already maps VM 2C0C0C0C0C0" in capsys.readouterr().err
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--name", "lab7", "--image", "/srv/lab7.img", "--routeflow-config", str(csv_file)) == 1
    assert "lab7 is not named by rftest2's naming" in capsys.readouterr().err
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmE", "--routeflow-config", str(csv_file), "--datapath-id", "nine") == 1
    assert "--datapath-id 'nine' is not a datapath id" in capsys.readouterr().err
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmE", "--routeflow-config", str(tmp_path)) == 1
    assert "is a folder" in capsys.readouterr().err
    assert csv_file.read_bytes() == before and not (tmp_path / "XML" / "rfvmE.xml").exists()
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--preset", "rfvmE", "--routeflow-config", str(csv_file), "--datapath-id", "0x20") == 0
    assert csv_file.read_text().endswith("2E0E0E0E0E0,4,0,20,4\n")


@pytest.mark.parametrize("option, value, words", [
    ("--image", "fifo", "image: this is a FIFO (named pipe), not an image file (a regular file) or a folder"),
    ("--image", "/dev/zero", "image: this is a character device, not an image file"),
    ("--kernel", "/dev/zero", "kernel: this is a character device, not a kernel file"),
])
def test_new_refuses_a_special_file_as_image_or_kernel(tmp_path, capsys, option, value, words):
    """issue 16 item 8: a FIFO or /dev/zero was taken as an image; /dev/zero as a kernel 'did not exist'."""
    if value == "fifo":
        os.mkfifo(tmp_path / "fifo")
        value = str(tmp_path / "fifo")
    assert run(tmp_path, "new", "--hypervisor", "qemu", "--name", "vm1", option, value) == 1
    assert words in capsys.readouterr().err
    assert not (tmp_path / "XML" / "vm1.xml").exists()


def test_new_refuses_the_same_mac_twice_in_one_vm(tmp_path, capsys):
    """issue 16 item 8: libvirt accepts it, and the guest's network breaks."""
    nic = "bridge=br0,mac=52:54:00:AA:00:01"
    assert run(tmp_path, "new", "--hypervisor", "test", "--name", "vm1", "--kernel", "/k", "--nic", nic, "--nic", nic.replace("br0", "br1").lower()) == 1
    assert "NIC 2 has the MAC of NIC 1: each NIC of a VM needs its own MAC" in capsys.readouterr().err
    assert not (tmp_path / "XML" / "vm1.xml").exists()


@pytest.mark.parametrize("where", ["-o", "--routeflow-config", "--workdir"])
def test_a_file_where_a_folder_should_be_is_named_so(tmp_path, capsys, where):
    """--routeflow-config FILE/c.csv said the folder FILE 'does not exist'; -o FILE/x.xml and
    --workdir FILE said only 'Not a directory'."""
    (tmp_path / "plain").write_text("not a folder")
    workdir, arguments = tmp_path, ["new", "--hypervisor", "qemu", "--preset", "rfvmE", "--kernel", "/k"]
    if where == "-o":
        arguments += ["-o", str(tmp_path / "plain" / "x.xml")]
    elif where == "--routeflow-config":
        arguments += ["--routeflow-config", str(tmp_path / "plain" / "c.csv")]
    else:
        workdir = tmp_path / "plain"
    assert main(["--workdir", str(workdir), "xml", *arguments]) == 1
    assert f"{tmp_path / 'plain'} is a regular file, not a folder" in capsys.readouterr().err
    assert (tmp_path / "plain").read_text() == "not a folder" and not list(tmp_path.rglob("*.xml"))


@pytest.mark.parametrize("where", ["-o", "--routeflow-config", "--workdir"])
def test_no_chain_of_folders_is_made(tmp_path, capsys, where):
    """issue 16 item 8: -o no/such/dir/x.xml, --routeflow-config no/dir/c.csv and --workdir
    /nonexistent silently made whole chains of folders; only XML/ and Images/ are rfconsole's."""
    workdir = tmp_path / "lab"
    workdir.mkdir()
    arguments = ["new", "--hypervisor", "qemu", "--preset", "rfvmE", "--kernel", "/k"]
    if where == "-o":
        arguments += ["-o", str(workdir / "no" / "such" / "x.xml")]
    elif where == "--routeflow-config":
        arguments += ["--routeflow-config", str(workdir / "no" / "dir" / "c.csv")]
    else:
        workdir = tmp_path / "nonexistent" / "lab"
    assert main(["--workdir", str(workdir), "xml", *arguments]) == 1
    assert "does not exist" in capsys.readouterr().err
    made = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_dir())
    assert made in ([], ["lab"], ["lab", "lab/XML"])  # at most the working folder's own XML/ (its lock)
    assert not list(tmp_path.rglob("*.xml")) and not list(tmp_path.rglob("*.csv"))
