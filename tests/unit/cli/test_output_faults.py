"""Every output error (issue 16 item 7): standard output or standard error closed (`>&-`), full
(`>/dev/full`) or a pipe whose reader went away (`| head -c1`, `2>&1 | head -c1`) gave tracebacks,
stopped `up` half-way, or sent the messages into standard output. Now: the operation's result is
what it is without the fault, output that could not be written makes the exit code 141 (broken
pipe) or 1 (anything else), a lost standard output is said in one line on a working standard
error, and a stream that works carries exactly what it carries without the fault. The installed
`rfconsole`, run as a user runs it, on the demo."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfconsole.model import DomainSpec
from rfconsole.model.domainxml import DomainDocument

RFCONSOLE = Path(sys.executable).with_name("rfconsole")
COMMANDS = [
    ("--help",),
    ("--version",),
    ("xml", "new", "--help"),
    ("status",),
    ("status", "--json"),
    ("status", "--watch"),  # serves until interrupted; stops once nobody reads
    ("up",),
    ("xml", "show", "good"),
    ("xml", "validate", "good"),
    ("xml", "new", "--hypervisor", "test", "--name", "fresh", "--kernel", "/k", "-o", "-"),
    ("xml", "new", "--hypervisor", "test", "--name", "fresh", "--kernel", "/k"),
    ("xml", "set", "good", "vcpu=2"),
    ("image", "list"),
    ("image", "list", "--json"),
    ("snapshot", "list", "rfvmA"),
    ("details", "rfvmA", "--json"),
]
FAULTS = ["closed", "full", "broken pipe"]
STREAMS = ["stdout", "stderr", "both"]  # both: `>&- 2>&-`, `>/dev/full 2>&1`, `2>&1 | head -c1`
LOST = b"rfconsole: error:"


GOOD = DomainDocument.from_spec(DomainSpec(hypervisor="test", name="good", id=1, kernel_boot={"kernel": "/k"})).to_bytes()


def folder_with_a_vm(root: Path) -> Path:
    (root / "XML").mkdir()
    (root / "XML" / "good.xml").write_bytes(GOOD)
    return root


def files_of(root: Path) -> dict[str, bytes]:
    """The working folder's files but the hidden ones (a backup's name holds the time)."""
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts)}


def run(root: Path, command: tuple[str, ...], fault: str | None = None, stream: str = "stdout") -> tuple[int, bytes, bytes]:
    """(exit code, what reached stdout, what reached stderr) of rfconsole in ``root``; a faulty
    stream reaches nothing. `status --watch` is given 2 s, then interrupted (ctrl+c)."""
    argv = [str(RFCONSOLE), "--workdir", str(root), "--demo", *command]
    faulty = {"stdout": (1,), "stderr": (2,), "both": (1, 2)}[stream] if fault else ()
    reader, writer = os.pipe()
    os.close(reader)  # the reader went away before a byte was written: every write is EPIPE
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, open("/dev/full", "w") as full:
        target = {"closed": subprocess.DEVNULL, "full": full, "broken pipe": writer}.get(fault)
        closing = [fd for fd in faulty if fault == "closed"]
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=target if 1 in faulty else out, stderr=target if 2 in faulty else err,
                                   preexec_fn=(lambda: [os.close(fd) for fd in closing]) if closing else None)
        os.close(writer)
        try:
            code = process.wait(timeout=2 if "--watch" in command else 60)
        except subprocess.TimeoutExpired:
            process.send_signal(2)
            code = process.wait(timeout=30)
        out.seek(0)
        err.seek(0)
        here = str(root).encode()  # the folder's name differs from run to run
        return code, out.read().replace(here, b"{folder}"), err.read().replace(here, b"{folder}")


def lines(text: bytes, command: tuple[str, ...]) -> list[bytes]:
    """``text``'s lines in an order that does not depend on timing: `up` starts its VMs at once
    (and counts them as they come: [1/4] …, each taking its time: 0.02 s); `status --watch`
    redraws as often as it can."""
    said = sorted(re.sub(rb"\d+(\.\d+)? s\b", b"N s", re.sub(rb"^\[\d+/\d+\] ", b"", line)) for line in text.splitlines())
    return sorted(set(said)) if "--watch" in command else said


@functools.cache
def without_a_fault(command: tuple[str, ...]) -> tuple[int, bytes, bytes, dict[str, bytes]]:
    with tempfile.TemporaryDirectory() as clean:
        return (*run(folder_with_a_vm(Path(clean)), command), files_of(Path(clean)))


@settings(max_examples=25, deadline=None)
@given(command=st.sampled_from(COMMANDS), fault=st.sampled_from(FAULTS), stream=st.sampled_from(STREAMS))
def test_an_output_fault_is_the_right_code_one_line_and_changes_nothing_else(command, fault, stream):
    expected_code, expected_out, expected_err, expected_files = without_a_fault(command)
    with tempfile.TemporaryDirectory() as faulty:
        assert expected_code == 0, expected_err
        code, out, err = run(folder_with_a_vm(Path(faulty)), command, fault, stream)
        assert b"Traceback" not in err and b"Exception ignored" not in err, err
        # the operation did what it does without the fault: the same files, byte for byte
        assert files_of(Path(faulty)) == expected_files
        lost_out = stream in ("stdout", "both") and (expected_out != b"" or "--watch" in command)
        lost_err = stream in ("stderr", "both") and expected_err != b""
        if lost_out or lost_err:
            assert code == (141 if fault == "broken pipe" else 1), (code, err)
        else:  # nothing was to be written where the fault is
            assert code == 0, (code, err)
        if stream == "stderr":  # standard output carries what it carries without the fault: no message strayed into it
            assert lines(out, command) == lines(expected_out, command)
        if stream == "stdout":  # standard error says what it says without the fault, and one line if output was lost
            said = [line for line in lines(err, command) if not line.startswith(LOST)]
            assert said == lines(expected_err, command)
            lost = [line.decode() for line in err.splitlines() if line.startswith(LOST)]
            assert len(lost) == (1 if lost_out else 0), err
            if lost_out:
                assert ("broken pipe" if fault == "broken pipe" else "cannot write to standard output") in lost[0]


@pytest.mark.parametrize("encoding, command, shown", [
    ("ascii", ("--help",), b"rftest2's rfvmA\\u2013rfvmD"),  # an en dash an ASCII terminal cannot show
    ("utf-8", ("xml", "new", "--hypervisor", "test", "--name", "fresh", "--kernel", "/k", "-o", "o\udcff.xml"), b"o\\udcff.xml"),
])
def test_a_character_the_output_cannot_encode_is_escaped(tmp_path, encoding, command, shown):
    """A character standard output's encoding lacks (a path's invalid UTF-8 under a strict UTF-8
    locale, a dash in ASCII) gave a UnicodeEncodeError traceback; it is written escaped."""
    result = subprocess.run([os.fsencode(RFCONSOLE), b"--workdir", os.fsencode(tmp_path), b"--demo", *map(os.fsencode, command)],
                            capture_output=True, timeout=60, cwd=tmp_path, env={**os.environ, "PYTHONIOENCODING": encoding})
    assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr
    assert shown in result.stdout
