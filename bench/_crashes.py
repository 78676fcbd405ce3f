"""kill -9 in the middle of rfconsole's operations on several files: afterwards the working folder
holds what it held before or what the operation writes, nothing in between; no temporary file is
left once the next command has taken XML/'s lock; and the same command run again succeeds.

    .venv/bin/python -m bench._crashes [--kills 200] [OPERATION …]

Not a benchmark (it checks correctness): a private module, so `python -m bench` does not run it.
tests/unit/model/test_crashes.py runs a few kills of each operation. Each kill is either at a
step of rfconsole/transaction.py (its test hook, RFCONSOLE_TEST_KILL_AT_STEP) or a real SIGKILL
after a random delay within the command's own run time (anywhere: imports, qemu-img, fsync).
The operations (issue 16 item 3):

- clone: `--demo clone rfvmA rfvmE --routeflow-config CSV` (overlay, XML, CSV rows);
- new-base: `xml new --preset rfvmE --base tiny` (overlay, XML);
- new-base-force: the same with --force over an rfvmE that exists (its overlay holds data);
- rows: `xml new --preset rfvmE --kernel /k --routeflow-config CSV` (XML, CSV rows).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RFCONSOLE = Path(sys.executable).with_name("rfconsole")
STEPS = range(1, 10)  # transaction.py's _step numbers
CSV_HEAD = "vm_id,vm_port,ct_id,dp_id,dp_port\n2A0A0A0A0A0,1,0,5,1\n"
OPERATIONS = {
    "clone": ["--demo", "clone", "rfvmA", "rfvmE", "--routeflow-config", "{root}/rftest2.csv"],
    "new-base": ["xml", "new", "--preset", "rfvmE", "--hypervisor", "qemu", "--base", "tiny"],
    "new-base-force": ["xml", "new", "--preset", "rfvmE", "--hypervisor", "qemu", "--base", "tiny", "--force"],
    "rows": ["xml", "new", "--preset", "rfvmE", "--hypervisor", "qemu", "--kernel", "/k", "--routeflow-config", "{root}/rftest2.csv"],
}


@dataclass
class Findings:
    kills: int = 0
    old: int = 0  # the folder as before (rolled back, or killed before anything was written)
    new: int = 0  # the folder as after (killed after the commit, finished)
    problems: list[str] = field(default_factory=list)


def prepare(root: Path, operation: str) -> None:
    """The working folder before ``operation``: a base "tiny", rfvmA on an overlay of it, RouteFlow's CSV."""
    from rfconsole.images import Images
    from rfconsole.model.domainxml import DomainDocument
    from rfconsole.model.rftest2 import preset_spec
    from rfconsole.store import Store, Workdir

    (root / "XML").mkdir(parents=True)
    (root / "Images").mkdir()
    workdir = Workdir(root)
    source = root / "tiny.src.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(source), "16M"], check=True)
    images = Images(workdir)
    base, _ = images.register_base(source, name="tiny")
    source.unlink()
    overlay, _ = images.create_overlay(base, workdir.image("h1.qcow2"))
    store = Store(workdir)
    store.save(DomainDocument.from_spec(preset_spec("rfvmA", "qemu", workdir, image=overlay)))
    (root / "rftest2.csv").write_text(CSV_HEAD)
    if operation == "new-base-force":
        assert run(root, OPERATIONS["new-base"]).returncode == 0
        subprocess.run(["qemu-io", "-c", "write -P 0x5a 0 64k", str(workdir.image("h5.qcow2"))], check=True, capture_output=True)


def run(root: Path, arguments: list[str], kill_at_step: int | None = None, kill_after: float | None = None) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ)
    if kill_at_step is not None:
        environment["RFCONSOLE_TEST_KILL_AT_STEP"] = str(kill_at_step)
    command = [str(RFCONSOLE), "--workdir", str(root), *(argument.format(root=root) for argument in arguments)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    if kill_after is not None:
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def state(root: Path) -> dict[str, object]:
    """What the folder holds: each file's content (a hash), by path; the backups of XML/ as a set
    (a rolled-back --force may have kept one more copy of the old file: a backup, never lost
    work), Images/.backup's as a list of contents; every hidden file that is not rfconsole's lock."""
    files: dict[str, object] = {}
    xml_backups: set[str] = set()
    image_backups: list[str] = []
    hidden: list[str] = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_dir():
            continue
        # the folder's own path (in the XML's image paths) is the same in every copy
        digest = hashlib.sha256(path.read_bytes().replace(str(root).encode(), b"ROOT")).hexdigest()
        if relative.startswith("XML/.backup/"):
            xml_backups.add(digest)
        elif relative.startswith("Images/.backup/"):
            image_backups.append(digest)
        elif path.name.startswith(".") and path.name != ".rfconsole.lock":
            hidden.append(relative)
        elif path.name != ".rfconsole.lock":
            files[relative] = digest
    return {"files": files, "xml_backups": xml_backups, "image_backups": sorted(image_backups), "hidden": hidden}


def copy_folder(template: Path, root: Path) -> None:
    """A copy of the working folder ``template`` at ``root``, its XML naming its own images."""
    shutil.copytree(template, root, symlinks=True)
    for path in (root / "XML").glob("*.xml"):
        path.write_bytes(path.read_bytes().replace(str(template).encode(), str(root).encode()))


def take_lock(root: Path) -> None:
    """What the next rfconsole command does first: take XML/'s lock (recovering what a killed one left)."""
    from rfconsole.store import Store, Workdir

    with Store(Workdir(root)).locked():
        pass


def _same(seen: dict[str, object], expected: dict[str, object]) -> bool:
    return (
        seen["files"] == expected["files"]
        and seen["image_backups"] == expected["image_backups"]
        and seen["xml_backups"] >= expected["xml_backups"]  # type: ignore[operator]
        and not seen["hidden"]
    )


def trial(folder: Path, operation: str, template: Path, before: dict, after: dict, findings: Findings, kill_at_step: int | None, kill_after: float | None) -> int:
    """One kill; the killed command's exit code (-9 when the kill came before it ended)."""
    root = folder / f"kill{findings.kills}"
    copy_folder(template, root)
    how = f"step {kill_at_step}" if kill_at_step is not None else f"after {kill_after:.3f} s"
    killed = run(root, OPERATIONS[operation], kill_at_step=kill_at_step, kill_after=kill_after)
    findings.kills += 1
    take_lock(root)
    seen = state(root)
    if _same(seen, before):
        findings.old += 1
    elif _same(seen, after):
        findings.new += 1
    else:
        findings.problems.append(f"{operation} killed at {how} (exit {killed.returncode}): the folder is neither as before nor as after: {_difference(seen, before, after)}")
        return killed.returncode
    if _same(seen, after):
        shutil.rmtree(root, ignore_errors=True)
        return killed.returncode  # done already: running it again is refused, as it should be (the VM exists)
    again = run(root, OPERATIONS[operation])
    if again.returncode != 0:
        findings.problems.append(f"{operation} killed at {how}: run again, it exited {again.returncode}: {(again.stderr or again.stdout).strip()}")
    elif not _same(state(root), after):
        findings.problems.append(f"{operation} killed at {how}: run again, the folder is not as after: {_difference(state(root), after, after)}")
    shutil.rmtree(root, ignore_errors=True)
    return killed.returncode


def _difference(seen: dict, before: dict, after: dict) -> str:
    words = []
    for key in ("files", "image_backups", "hidden"):
        if seen[key] != before[key] and seen[key] != after[key]:
            words.append(f"{key}: {seen[key]!r} (before {before[key]!r}, after {after[key]!r})")
    return "; ".join(words) or "XML/.backup lost a backup"


def run_kills(operation: str, kills: int, folder: Path, seed: int = 0, steps_first: bool = True) -> Findings:
    """``kills`` kills of ``operation``: first at each step of the transaction (when
    ``steps_first``), then real SIGKILLs at random moments of its run."""
    template = folder / f"{operation}-template"
    prepare(template, operation)
    before = state(template)
    reference = folder / f"{operation}-reference"
    copy_folder(template, reference)
    started = time.monotonic()
    done = run(reference, OPERATIONS[operation])
    duration = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"{operation} fails without a kill: {done.stderr}")
    after = state(reference)
    findings = Findings()
    chance = random.Random(seed)
    plan: list[tuple[int | None, float | None]] = [(step, None) for step in STEPS] if steps_first else []
    while len(plan) < kills:
        plan.append((None, chance.uniform(0.0, duration)) if chance.random() < 0.7 else (chance.choice(STEPS), None))
    for kill_at_step, kill_after in plan[:kills]:
        trial(folder, operation, template, before, after, findings, kill_at_step, kill_after)
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._crashes", description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200, help="kills per operation (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("operations", nargs="*", choices=[*OPERATIONS, []], metavar="OPERATION", help=f"some of {', '.join(OPERATIONS)} (default all)")
    args = parser.parse_args(argv)
    failed = False
    for operation in args.operations or list(OPERATIONS):
        with tempfile.TemporaryDirectory(prefix="rfconsole-crashes-") as folder:
            findings = run_kills(operation, args.kills, Path(folder), seed=args.seed)
        status = "ok" if not findings.problems else f"{len(findings.problems)} PROBLEMS"
        print(f"{operation:<15} {findings.kills} kills: {findings.old} as before, {findings.new} as after; {status}", flush=True)
        for problem in findings.problems:
            print(f"  - {problem[:400]}")
        failed = failed or bool(findings.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
