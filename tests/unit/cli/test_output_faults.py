"""Every output error (issue 16 item 7): standard output closed (`>&-`), full (`>/dev/full`) or a
pipe whose reader went away (`| head -c1`) gave tracebacks, and `up` stopped half-way. Now: one
line on stderr, exit 141 for a broken pipe and 1 otherwise, and the operation's result exactly
what it is without the fault. The installed `rfconsole`, run as a user runs it, on the demo."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

RFCONSOLE = Path(sys.executable).with_name("rfconsole")
COMMANDS = [
    ("status",),
    ("status", "--json"),
    ("up",),
    ("xml", "show", "good"),
    ("xml", "validate", "good"),
    ("xml", "new", "--hypervisor", "test", "--name", "fresh", "--kernel", "/k", "-o", "-"),
    ("xml", "new", "--hypervisor", "test", "--name", "fresh", "--kernel", "/k"),
    ("image", "list"),
    ("image", "list", "--json"),
    ("snapshot", "list", "rfvmA"),
]
FAULTS = ["closed", "full", "broken pipe"]


def folder_with_a_vm(root: Path) -> Path:
    subprocess.run([str(RFCONSOLE), "--workdir", str(root), "--demo", "xml", "new", "--hypervisor", "test", "--name", "good", "--kernel", "/k"],
                   capture_output=True, check=True)
    return root


def files_of(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file() and not path.name.startswith(".")}


def run(root: Path, command: tuple[str, ...], fault: str | None) -> subprocess.CompletedProcess[str]:
    argv = [str(RFCONSOLE), "--workdir", str(root), "--demo", *command]
    if fault is None:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if fault == "full":
        with open("/dev/full", "w") as full:
            return subprocess.run(argv, stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    if fault == "closed":
        return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60,
                              preexec_fn=lambda: os.close(1))
    reader, writer = os.pipe()
    os.close(reader)  # the reader went away before a byte was written: every write is EPIPE
    try:
        return subprocess.run(argv, stdout=writer, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(writer)


@settings(max_examples=16, deadline=None)
@given(command=st.sampled_from(COMMANDS), fault=st.sampled_from(FAULTS))
def test_an_output_fault_is_one_line_the_right_code_and_changes_nothing_else(command, fault):
    with tempfile.TemporaryDirectory() as clean, tempfile.TemporaryDirectory() as faulty:
        expected = run(folder_with_a_vm(Path(clean)), command, None)
        assert expected.returncode == 0, expected.stderr
        result = run(folder_with_a_vm(Path(faulty)), command, fault)
        assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("rfconsole: error:")]
        assert len(errors) == 1, result.stderr
        if fault == "broken pipe":
            assert result.returncode == 141 and "broken pipe" in errors[0]
        else:
            assert result.returncode == 1 and "cannot write to standard output" in errors[0]
        # the operation did what it does without the fault: the same files, byte for byte
        assert files_of(Path(faulty)) == files_of(Path(clean))
        # and said the same on stderr, besides the one line (in any order: `up` starts its VMs at once)
        assert sorted(line for line in result.stderr.splitlines() if line not in errors) == sorted(expected.stderr.splitlines())
