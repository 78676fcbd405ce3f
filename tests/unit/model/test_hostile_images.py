"""Hostile backing chains (issue 16 item 5): an image in Images/ whose backing file is a FIFO, a
device, a network address, a loop or a chain too deep made `image list|delete|base` hang for ever
(qemu-img blocked on the FIFO), open network connections, or copy files from outside into a
world-readable base. Every command here is the installed `rfconsole`, run as a user runs it."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

RFCONSOLE = Path(sys.executable).with_name("rfconsole")
BOUND_SECONDS = 15  # what any of these commands may take; a hang is killed at twice that
KINDS = ["FIFO", "character device", "network (nbd)", "json: protocol", "loop", "too deep", "missing", "data file: FIFO",
         "data file: network (nbd)"]
COMMANDS = [("image", "list"), ("image", "list", "--json"), ("image", "delete", "tiny"), ("image", "base", "Images/evil.qcow2"),
            ("clone", "rfvmA", "rfvmE")]


def qemu_img(*args: str) -> None:
    subprocess.run(["qemu-img", *args], check=True, capture_output=True, timeout=30)


def overlay(path: Path, backing: str) -> None:
    """A qcow2 file backed by ``backing``, made without opening the backing (-u)."""
    qemu_img("create", "-q", "-f", "qcow2", "-F", "raw", "-u", "-b", backing, str(path), "1M")


def with_data_file(path: Path, data_file: str) -> None:
    """A qcow2 file whose data lives in ``data_file`` (named in its header, never opened here)."""
    qemu_img("create", "-q", "-f", "raw", str(path.with_suffix(".data")), "1M")
    qemu_img("create", "-q", "-f", "qcow2", "-o", f"data_file={path.with_suffix('.data')}", str(path), "1M")
    qemu_img("amend", "-o", f"data_file={data_file}", str(path))
    path.with_suffix(".data").unlink()


def hostile_folder(root: Path, kind: str, listener: socket.socket) -> Path:
    """A working folder with a registered base (tiny) and Images/evil.qcow2 whose chain is ``kind``."""
    images = root / "Images"
    (images / "base").mkdir(parents=True)
    (root / "XML").mkdir()
    qemu_img("create", "-q", "-f", "qcow2", str(images / "base" / "tiny.qcow2"), "1M")
    evil = images / "evil.qcow2"
    if kind == "FIFO":
        os.mkfifo(root / "pipe")
        overlay(evil, str(root / "pipe"))
    elif kind == "character device":
        overlay(evil, "/dev/zero")
    elif kind == "network (nbd)":
        overlay(evil, f"nbd://127.0.0.1:{listener.getsockname()[1]}")
    elif kind == "json: protocol":
        port = listener.getsockname()[1]
        overlay(evil, f'json:{{"driver": "nbd", "server": {{"type": "inet", "host": "127.0.0.1", "port": "{port}"}}}}')
    elif kind == "loop":
        overlay(evil, "evil2.qcow2")
        overlay(images / "evil2.qcow2", "evil.qcow2")
    elif kind == "too deep":
        previous = "base/tiny.qcow2"
        for depth in range(20):
            name = f"layer{depth}.qcow2"
            overlay(images / name, previous)
            previous = name
        overlay(evil, previous)
    elif kind == "data file: FIFO":
        os.mkfifo(root / "pipe")
        with_data_file(evil, str(root / "pipe"))
    elif kind == "data file: network (nbd)":
        with_data_file(evil, f"nbd://127.0.0.1:{listener.getsockname()[1]}")
    else:
        overlay(evil, str(root / "nothing-here.img"))
    write_vm_on(root, evil)
    return root


def write_vm_on(root: Path, image: Path) -> None:
    """XML/rfvmA.xml, a QEMU VM whose disk is ``image`` (what `clone rfvmA` reads)."""
    from rfconsole.model.domainxml import DomainDocument
    from rfconsole.model.rftest2 import preset_spec
    from rfconsole.store import Store, Workdir

    workdir = Workdir(root)
    Store(workdir).save(DomainDocument.from_spec(preset_spec("rfvmA", "qemu", workdir, image=image)))


@pytest.fixture(scope="module")
def silent_server():
    """A listener on loopback that never answers; whoever connects to it is seen in its queue."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    yield listener
    listener.close()


def connections(listener: socket.socket) -> int:
    count = 0
    while True:
        try:
            accepted, _ = listener.accept()
        except BlockingIOError:
            return count
        accepted.close()
        count += 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(KINDS), command=st.sampled_from(COMMANDS))
def test_a_hostile_backing_chain_never_hangs_connects_or_leaks(silent_server, kind, command):
    connections(silent_server)
    with tempfile.TemporaryDirectory() as folder:
        root = hostile_folder(Path(folder), kind, silent_server)
        started = time.monotonic()
        result = subprocess.run(
            [str(RFCONSOLE), "--workdir", str(root), "--demo", *command],
            capture_output=True, text=True, cwd=root, timeout=2 * BOUND_SECONDS, check=False,
        )
        took = time.monotonic() - started
        said = result.stdout + result.stderr
        assert took < BOUND_SECONDS, f"{command} took {took:.1f} s on a {kind} backing"
        assert "Traceback" not in said
        assert connections(silent_server) == 0, f"{command} connected to the network backing"
        if command[1] == "base":
            assert result.returncode == 1 and "evil.qcow2" in result.stderr, said
            assert sorted(os.listdir(root / "Images" / "base")) == ["tiny.qcow2"]  # nothing copied, no temporary left
        elif command[0] == "clone":
            assert result.returncode == 1 and "evil.qcow2" in result.stderr, said
            assert not (root / "XML" / "rfvmE.xml").exists() and not (root / "Images" / "h5.qcow2").exists()
        elif command[1] == "list":
            assert result.returncode == 0, said
            assert "evil.qcow2" in result.stdout
        elif kind == "too deep":  # the layers below the cut are read, and they use the base
            assert result.returncode == 1 and "refusing to delete base 'tiny': it is in use by overlay layer0.qcow2" in said
        else:
            assert result.returncode == 0, said  # the base is in no chain


@pytest.mark.parametrize("kind", KINDS)
def test_the_listing_and_reset_say_why_a_chain_is_not_followed(tmp_path, silent_server, kind):
    from rfconsole.images import Images
    from rfconsole.store import Workdir

    root = hostile_folder(tmp_path, kind, silent_server)
    [row] = [row for row in Images(Workdir(root)).listing() if row.path.name == "evil.qcow2"]
    expected = {
        "FIFO": "which is a FIFO",
        "character device": "which is a character device",
        "network (nbd)": "not a file of this machine",
        "json: protocol": "not a file of this machine",
        "loop": "backing chain loops",
        "too deep": "deeper than 16 files",
        "missing": "which does not exist",
        "data file: FIFO": "keeps its data in an external data file",
        "data file: network (nbd)": "keeps its data in an external data file, 'nbd://127.0.0.1:",
    }[kind]
    assert row.info is None and expected in (row.problem or ""), row.problem
    started = time.monotonic()
    refusal = Images(Workdir(root)).reset_refusal(root / "Images" / "evil.qcow2")  # what reset asks of each disk
    assert refusal is not None and expected in refusal and time.monotonic() - started < BOUND_SECONDS, refusal


def test_a_base_is_no_more_readable_than_the_files_it_copies(tmp_path):
    """`image base` of a qcow2 backed by a secret (mode 0600: /etc/shadow's kind) wrote the
    secret's bytes into a base every user could read (0444)."""
    (tmp_path / "etc").mkdir()
    secret = tmp_path / "etc" / "secret.raw"
    secret.write_bytes(b"root:$6$not-for-everyone\n" * 100)
    secret.chmod(0o600)
    source = tmp_path / "innocent.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(secret), str(source))
    root = tmp_path / "lab"
    root.mkdir()
    result = subprocess.run([str(RFCONSOLE), "--workdir", str(root), "--demo", "image", "base", str(source)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"is backed by {secret}, outside the working folder" in result.stderr
    base = root / "Images" / "base" / "innocent.qcow2"
    assert stat.S_IMODE(base.stat().st_mode) == 0o400


def test_a_base_never_copies_an_external_data_file(tmp_path):
    """A qcow2 file's header may name an external data file that holds its clusters: `image base`
    of one whose data file was a 0600 secret copied the secret into a world-readable base (0444),
    and the chain (backing files only) never showed it. Now it is refused, naming the file."""
    secret = tmp_path / "secret.raw"
    secret.write_bytes(b"root:$6$not-for-everyone\n".ljust(1024 * 1024, b"\0"))
    secret.chmod(0o600)
    source = tmp_path / "innocent.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", f"data_file={tmp_path / 'scratch.raw'},data_file_raw=on", str(source), "1M")
    qemu_img("amend", "-o", f"data_file={secret}", str(source))
    root = tmp_path / "lab"
    root.mkdir()
    result = subprocess.run([str(RFCONSOLE), "--workdir", str(root), "--demo", "image", "base", str(source)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"keeps its data in an external data file, '{secret}'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (root / "Images" / "base").exists() or os.listdir(root / "Images" / "base") == []
