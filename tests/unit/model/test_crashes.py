"""kill -9 in the middle of `clone`, `xml new --base [--force]` and `--routeflow-config`
(bench/_crashes.py; `.venv/bin/python -m bench._crashes` runs 200 kills of each): afterwards the
working folder is as before or as after, no temporary file is left once the next command took
XML/'s lock, and the same command run again succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from bench import _crashes

# the steps of rfconsole/transaction.py where a kill leaves the most half-done
KILLS = {
    "clone": [1, 4, 5, 6, 8],
    "new-base": [2, 4, 8],
    "new-base-force": [3, 4, 5, 8, 9],
    "rows": [5, 6],
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Each operation's working folder before, and the state it leaves when not killed."""
    made = {}
    for operation in KILLS:
        folder = tmp_path_factory.mktemp(operation)
        template = folder / "template"
        _crashes.prepare(template, operation)
        reference = folder / "reference"
        _crashes.copy_folder(template, reference)
        assert _crashes.run(reference, _crashes.OPERATIONS[operation]).returncode == 0
        made[operation] = (template, _crashes.state(template), _crashes.state(reference))
    return made


@pytest.mark.parametrize(("operation", "step"), [(operation, step) for operation, steps in KILLS.items() for step in steps])
def test_killed_at_a_step_the_folder_is_as_before_or_after_and_the_command_runs_again(folders, tmp_path, operation, step):
    template, before, after = folders[operation]
    findings = _crashes.Findings()
    code = _crashes.trial(tmp_path, operation, template, before, after, findings, kill_at_step=step, kill_after=None)
    assert code == -signal.SIGKILL  # killed there, not run to its end
    assert findings.problems == []
    assert findings.old + findings.new == 1


def _kill_when(root: Path, arguments: list[str], appears: Path) -> int:
    """Run rfconsole and SIGKILL it the moment ``appears`` exists (real kill, no hook)."""
    command = [str(_crashes.RFCONSOLE), "--workdir", str(root), *(argument.format(root=root) for argument in arguments)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if appears.exists():
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.0005)
    return process.wait(timeout=60)


@pytest.mark.parametrize(("operation", "appears"), [("clone", "Images/h5.qcow2"), ("new-base", "Images/h5.qcow2"), ("rows", "XML/rfvmE.xml")])
def test_killed_the_moment_a_file_appears_nothing_is_half_done(folders, tmp_path, operation, appears):
    """Before the transaction: the overlay without its XML, or the XML without its CSV rows,
    and `clone`/`xml new` run again refused ("already exists")."""
    template, before, after = folders[operation]
    root = tmp_path / "folder"
    _crashes.copy_folder(template, root)
    code = _kill_when(root, _crashes.OPERATIONS[operation], root / appears)
    _crashes.take_lock(root)
    seen = _crashes.state(root)
    assert _crashes._same(seen, before) or _crashes._same(seen, after), f"exit {code}: {seen}"
    if not _crashes._same(seen, after):
        again = _crashes.run(root, _crashes.OPERATIONS[operation])
        assert again.returncode == 0, again.stderr
        assert _crashes._same(_crashes.state(root), after)


def test_a_roll_back_leaves_alone_a_file_someone_else_changed_and_a_broken_journal_stops_writes(tmp_path):
    from rfconsole.store import Store, StoreError, Workdir, file_version
    from rfconsole.store.journal import FileUndo, Intent

    (tmp_path / "XML").mkdir()
    store = Store(Workdir(tmp_path))
    csv, xml = tmp_path / "c.csv", tmp_path / "XML" / "vm.xml"
    csv.write_bytes(b"old\n")
    with store.locked():
        store.record_intent(Intent("test", files=[FileUndo(xml, None, file_version(b"<new/>")), FileUndo(csv, b"old\n", file_version(b"old\nnew\n"))]))
        xml.write_bytes(b"<new/>")  # written by the operation
        csv.write_bytes(b"old\nnew\nsomeone else's\n")  # then changed by another program
        (tmp_path / "XML" / ".vm.xml.abc123.tmp").write_bytes(b"half")
    # the process "died" holding the journal; the next one to take the lock puts things right
    with Store(Workdir(tmp_path)).locked():
        pass
    assert not xml.exists() and csv.read_bytes() == b"old\nnew\nsomeone else's\n"
    assert sorted(path.name for path in (tmp_path / "XML").iterdir()) == [".rfconsole.lock"]
    store.journal_path.write_text("{not json")
    with pytest.raises(StoreError, match="records an operation a killed rfconsole left half-done, but it cannot be read"):
        with store.locked():
            pass
