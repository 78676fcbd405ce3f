"""`rfconsole image base` killed (SIGKILL or SIGTERM) at random moments: afterwards no `qemu-img`
runs on, SIGTERM leaves no temporary file, `image list` shows every leftover of a SIGKILL, and the
next `image base` sweeps them and succeeds (issue 16 item 4).

    .venv/bin/python -m bench._image_kills [--kills 200] [--size-mib 32]

Not a benchmark (it checks correctness): a private module, so `python -m bench` does not run it.
tests/unit/model/test_image_kills.py runs a few kills of each signal. Each kill picks a signal
and a moment uniformly within the command's own run time (measured first), so kills land in the
imports, the checks, the copy by qemu-img and the rename alike.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

RFCONSOLE = Path(sys.executable).with_name("rfconsole")
CHILD_GONE_SECONDS = 1.0  # the kernel kills qemu-img as its parent dies: at once


@dataclass
class Findings:
    kills: Counter[str] = field(default_factory=Counter)
    leftovers: int = 0  # temporary files a SIGKILL left, each listed and then swept
    copies_done: int = 0  # the command had finished (or linked the base) before the signal
    problems: list[str] = field(default_factory=list)


def _rfconsole(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RFCONSOLE), "--workdir", str(workdir), *args], capture_output=True, text=True, timeout=300, check=False)


def _qemu_img_of(workdir: Path) -> list[str]:
    found = subprocess.run(["pgrep", "-af", f"qemu-img .*{workdir}"], capture_output=True, text=True, check=False)
    return found.stdout.splitlines()


def _hidden(workdir: Path) -> list[str]:
    folders = [workdir / "Images", workdir / "Images" / "base"]
    return sorted(f"{folder.name}/{name}" for folder in folders if folder.is_dir() for name in os.listdir(folder) if name.startswith("."))


def one_kill(root: Path, source: Path, number: int, signum: signal.Signals, delay: float, findings: Findings) -> None:
    workdir = root / f"lab{number}"
    workdir.mkdir()
    problem = findings.problems.append
    process = subprocess.Popen([str(RFCONSOLE), "--workdir", str(workdir), "image", "base", str(source)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    findings.kills[signum.name] += 1
    if "Traceback" in stderr:
        problem(f"kill {number} ({signum.name} at {delay:.3f} s): a traceback: {stderr.strip()[-300:]}")
    gone_by = time.monotonic() + CHILD_GONE_SECONDS
    while _qemu_img_of(workdir) and time.monotonic() < gone_by:
        time.sleep(0.01)
    running = _qemu_img_of(workdir)
    if running:
        problem(f"kill {number} ({signum.name} at {delay:.3f} s): qemu-img still running {CHILD_GONE_SECONDS} s later: {running}")
        for line in running:
            os.kill(int(line.split()[0]), signal.SIGKILL)
    left = _hidden(workdir)
    if signum == signal.SIGTERM and left:
        problem(f"kill {number} (SIGTERM at {delay:.3f} s): left {left}")
    if signum == signal.SIGTERM and process.returncode not in (0, 143, -signal.SIGTERM):
        problem(f"kill {number} (SIGTERM at {delay:.3f} s): exit {process.returncode}: {stderr.strip()[-300:]}")
    if left:
        findings.leftovers += len(left)
        time.sleep(1.1)  # LEFTOVER_GRACE_SECONDS: a temporary file younger than that is never taken for a leftover
        listing = _rfconsole(workdir, "image", "list")
        if listing.returncode != 0 or listing.stdout.count("[leftover]") != len(left):
            problem(f"kill {number}: {left} left, `image list` shows {listing.stdout.count('[leftover]')} leftovers: {listing.stdout}{listing.stderr}")
    base = workdir / "Images" / "base" / source.name
    if base.exists():
        findings.copies_done += 1
    again = _rfconsole(workdir, "image", "base", str(source))
    if again.returncode != 0 and not (base.exists() and "already a base called" in again.stderr):
        problem(f"kill {number} ({signum.name} at {delay:.3f} s): the same command again failed: {again.stderr.strip()}")
    if _hidden(workdir):
        problem(f"kill {number} ({signum.name} at {delay:.3f} s): {_hidden(workdir)} survived the next image base")
    compared = subprocess.run(["qemu-img", "compare", "-U", str(source), str(base)], capture_output=True, text=True, check=False)
    if compared.returncode != 0:
        problem(f"kill {number}: the base differs from its source after the retry: {compared.stdout}{compared.stderr}")


def run(kills: int, size_mib: int, seed: int, root: Path) -> tuple[Findings, float]:
    source = root / "os.img"
    with open(source, "wb") as stream:
        for _ in range(size_mib):
            stream.write(os.urandom(1024 * 1024))
    (root / "measure").mkdir()
    started = time.monotonic()
    whole = _rfconsole(root / "measure", "image", "base", str(source))
    run_time = time.monotonic() - started
    if whole.returncode != 0:
        raise SystemExit(f"image base uninterrupted failed: {whole.stderr}")
    shuffle = random.Random(seed)
    findings = Findings()
    for number in range(kills):
        signum = shuffle.choice([signal.SIGKILL, signal.SIGTERM])
        one_kill(root, source, number, signum, shuffle.uniform(0, run_time), findings)
        for name in os.listdir(root / f"lab{number}" / "Images" / "base"):  # keep the disk's use small
            os.unlink(root / f"lab{number}" / "Images" / "base" / name)
    return findings, run_time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._image_kills", description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--size-mib", type=int, default=32, help="the source image's size (random data)")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rfconsole-image-kills.") as folder:
        findings, run_time = run(args.kills, args.size_mib, args.seed, Path(folder))
    print(f"image base of a {args.size_mib} MiB image: {run_time:.2f} s uninterrupted; {sum(findings.kills.values())} kills "
          f"({', '.join(f'{count} {name}' for name, count in sorted(findings.kills.items()))}) at random moments within it")
    print(f"{findings.copies_done} had already made the base; {findings.leftovers} leftovers of SIGKILL, each listed by image list and swept")
    for line in findings.problems:
        print("PROBLEM:", line)
    print(f"{len(findings.problems)} problems")
    return 1 if findings.problems else 0


if __name__ == "__main__":
    sys.exit(main())
