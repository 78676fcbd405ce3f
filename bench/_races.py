"""Concurrent `rfconsole xml` processes on one working folder: nothing lost, nothing duplicated.

    .venv/bin/python -m bench._races [--rounds 100] [--workers 2]

Not a benchmark (it measures correctness, not speed): a private module, so `python -m bench`
does not run it. tests/unit/model/test_store_races.py runs a few rounds of the same races.
Each round starts ``workers`` real `rfconsole` processes at once and checks:

- `xml set` of different fields of one file: every command exits 0 and every change is in the
  file (one command is one edit, made under XML/'s lock: none is refused or lost);
- `xml new` of one name: exactly one exits 0, the others exit 1;
- `xml new` of different names without --id: every one exits 0 and the ids are unique;
- `clone` of one VM to different names without --id (on the demo driver): every one exits 0,
  the ids are unique and every clone's backing chain opens;
- `image delete BASE` against `xml new --base BASE`: exactly one wins, the other exits 1 with
  its reason, and every VM's backing chain opens (`qemu-img info --backing-chain -U`).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RFCONSOLE = Path(sys.executable).with_name("rfconsole")
# `xml set` changes the racers make, each to a field of its own, and how to read it back.
SET_FIELDS = [("memory", lambda i: str(100 + i)), ("vcpu", lambda i: str(1 + i % 8)), ("image", lambda i: f"/srv/img{i}.img"),
              ("cmdline", lambda i: f"console=ttyS{i}")]


@dataclass
class Findings:
    rounds: int = 0
    succeeded: int = 0
    refused: int = 0
    problems: list[str] = field(default_factory=list)


def _start(workdir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(RFCONSOLE), "--workdir", str(workdir), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out + err


def _show(workdir: Path, name: str) -> dict:
    """The VM's settings as the file holds them now (read in this process: faster than a CLI)."""
    from rfconsole.store import Store

    return Store(workdir).load(name).spec().model_dump(mode="json")


def race_set(workdir: Path, round_number: int, workers: int, findings: Findings) -> None:
    name = f"set{round_number}"
    from rfconsole.model import DomainSpec
    from rfconsole.model.domainxml import DomainDocument
    from rfconsole.store import Store

    Store(workdir).save(DomainDocument.from_spec(DomainSpec(hypervisor="qemu", name=name, id=1000 + round_number, kernel_boot={"kernel": "/k"})))
    chosen = [SET_FIELDS[index % len(SET_FIELDS)] for index in range(workers)]
    values = [make(round_number) for _, make in chosen]
    processes = [_start(workdir, "xml", "set", name, f"{key}={value}") for (key, _), value in zip(chosen, values)]
    outcomes = [_finish(process) for process in processes]
    shown = _show(workdir, name)
    actual = {"memory": str(shown["memory"]), "vcpu": str(shown["vcpu"]), "image": shown["image"],
              "cmdline": (shown["kernel_boot"] or {}).get("cmdline")}
    for ((key, _), value, (code, output)) in zip(chosen, values, outcomes):
        if code == 0:
            findings.succeeded += 1
            if actual[key] != value:
                findings.problems.append(f"round {round_number}: `xml set {key}={value}` exited 0 but the file has {key}={actual[key]!r}")
        else:
            findings.problems.append(f"round {round_number}: `xml set {key}={value}` exited {code}: {output.strip()}")


def race_new_same_name(workdir: Path, round_number: int, workers: int, findings: Findings) -> None:
    name = f"same{round_number}"
    processes = [_start(workdir, "xml", "new", "--hypervisor", "qemu", "--name", name, "--kernel", f"/k{index}") for index in range(workers)]
    outcomes = [_finish(process) for process in processes]
    winners = [index for index, (code, _) in enumerate(outcomes) if code == 0]
    if len(winners) != 1:
        findings.problems.append(f"round {round_number}: {len(winners)} of {workers} `xml new --name {name}` exited 0 (expected 1)")
    for code, output in outcomes:
        if code not in (0, 1):
            findings.problems.append(f"round {round_number}: `xml new --name {name}` exited {code}: {output.strip()}")
    if len(winners) == 1:
        kernel = _show(workdir, name)["kernel_boot"]["kernel"]
        if kernel != f"/k{winners[0]}":
            findings.problems.append(f"round {round_number}: the winner wrote /k{winners[0]}, the file holds {kernel}")
    findings.succeeded += len(winners)
    findings.refused += workers - len(winners)


def race_new_ids(workdir: Path, round_number: int, workers: int, findings: Findings) -> None:
    names = [f"id{round_number}x{index}" for index in range(workers)]
    processes = [_start(workdir, "xml", "new", "--hypervisor", "qemu", "--name", name, "--kernel", "/k") for name in names]
    outcomes = [_finish(process) for process in processes]
    for name, (code, output) in zip(names, outcomes):
        if code != 0:
            findings.problems.append(f"round {round_number}: `xml new --name {name}` exited {code}: {output.strip()}")
    ids = [_show(workdir, name)["id"] for name, (code, _) in zip(names, outcomes) if code == 0]
    if len(set(ids)) != len(ids):
        findings.problems.append(f"round {round_number}: `xml new` at once gave ids {ids}")
    findings.succeeded += len(ids)


def _chain_problem(image: str | None) -> str | None:
    """Why the image's backing chain does not open (qemu-img's words), or None."""
    if image is None:
        return "no image"
    result = subprocess.run(["qemu-img", "info", "--backing-chain", "-U", image], capture_output=True, text=True, timeout=60, check=False)
    return None if result.returncode == 0 else (result.stderr or result.stdout).strip()


def _check_chains(workdir: Path, round_number: int, findings: Findings, names: list[str]) -> None:
    from rfconsole.store import Store

    for name, spec in Store(workdir).specs().items():
        if name not in names:
            continue
        problem = _chain_problem(str(spec.image) if spec.image else None)
        if problem:
            findings.problems.append(f"round {round_number}: {name}'s disk does not open: {problem}")


def _new_base(workdir: Path, name: str) -> Path:
    from rfconsole.images import Images
    from rfconsole.store import Workdir

    source = workdir / f"{name}.src.qcow2"
    if not source.exists():
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(source), "16M"], check=True)
    base, _ = Images(Workdir(workdir)).register_base(source, name=name)
    return base


def race_clone_ids(workdir: Path, round_number: int, workers: int, findings: Findings) -> None:
    if round_number == 0:
        from rfconsole.images import Images
        from rfconsole.model.domainxml import DomainDocument
        from rfconsole.model.rftest2 import preset_spec
        from rfconsole.store import Store, Workdir

        base = _new_base(workdir, "clonebase")
        overlay, _ = Images(Workdir(workdir)).create_overlay(base, workdir / "Images" / "h1.qcow2")
        Store(workdir).save(DomainDocument.from_spec(preset_spec("rfvmA", "qemu", Workdir(workdir), image=overlay)))
    names = [f"c{round_number}x{index}" for index in range(workers)]
    processes = [_start(workdir, "--demo", "clone", "rfvmA", name) for name in names]
    outcomes = [_finish(process) for process in processes]
    for name, (code, output) in zip(names, outcomes):
        if code != 0:
            findings.problems.append(f"round {round_number}: `clone rfvmA {name}` exited {code}: {output.strip()}")
    clones = [_show(workdir, name) for name, (code, _) in zip(names, outcomes) if code == 0]
    ids = [clone["id"] for clone in clones]
    if len(set(ids)) != len(ids):
        findings.problems.append(f"round {round_number}: `clone` at once gave ids {ids}")
    for clone in clones:
        problem = _chain_problem(clone["image"])
        if problem:
            findings.problems.append(f"round {round_number}: {clone['name']}'s disk does not open: {problem}")
    findings.succeeded += len(clones)


def race_delete_base(workdir: Path, round_number: int, workers: int, findings: Findings) -> None:
    """`image delete BASE` against `xml new --base BASE` (``workers`` - 1 of them, other names)."""
    base = f"b{round_number}"
    _new_base(workdir, base)
    names = [f"d{round_number}x{index}" for index in range(max(1, workers - 1))]
    # one side starts a varying moment after the other, so that rounds fall on every part of
    # the other's window (`xml new` imports more before it reaches the base)
    offset = random.Random(round_number).uniform(-0.5, 0.5)
    def start_news() -> list[subprocess.Popen[str]]:
        return [_start(workdir, "xml", "new", "--hypervisor", "qemu", "--name", name, "--base", base) for name in names]
    news_started = start_news() if offset >= 0 else []
    time.sleep(abs(offset))
    delete = _start(workdir, "image", "delete", base)
    news_started = news_started or start_news()
    (deleted, delete_output), *news = [_finish(process) for process in (delete, *news_started)]
    made = [name for name, (code, _) in zip(names, news) if code == 0]
    for name, (code, output) in zip(names, news):
        if code not in (0, 1):
            findings.problems.append(f"round {round_number}: `xml new --name {name} --base {base}` exited {code}: {output.strip()}")
    if deleted == 0 and made:
        findings.problems.append(f"round {round_number}: `image delete {base}` and `xml new --base {base}` ({', '.join(made)}) both exited 0")
    if deleted != 0 and not made:
        findings.problems.append(f"round {round_number}: neither `image delete {base}` nor `xml new --base {base}` exited 0: {delete_output.strip()}")
    if deleted not in (0, 1):
        findings.problems.append(f"round {round_number}: `image delete {base}` exited {deleted}: {delete_output.strip()}")
    _check_chains(workdir, round_number, findings, names)
    findings.succeeded += len(made) + (deleted == 0)
    findings.refused += len(news) - len(made) + (deleted != 0)


RACES = {
    "set": race_set,
    "new-same-name": race_new_same_name,
    "new-ids": race_new_ids,
    "clone-ids": race_clone_ids,
    "delete-base": race_delete_base,
}


def run(rounds: int, workers: int, races: list[str] | None = None, root: Path | None = None) -> dict[str, Findings]:
    results = {}
    with tempfile.TemporaryDirectory(prefix="rfconsole-races-", dir=root) as folder:
        for race in races or list(RACES):
            workdir = Path(folder) / race
            (workdir / "XML").mkdir(parents=True)
            (workdir / "Images").mkdir()
            findings = Findings()
            for round_number in range(rounds):
                RACES[race](workdir, round_number, workers, findings)
                findings.rounds += 1
            results[race] = findings
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._races", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="processes racing in each round")
    parser.add_argument("races", nargs="*", choices=[*RACES, []], metavar="RACE", help=f"some of {', '.join(RACES)} (default all)")
    args = parser.parse_args(argv)
    failed = False
    for race, findings in run(args.rounds, args.workers, args.races or None).items():
        status = "ok" if not findings.problems else f"{len(findings.problems)} PROBLEMS"
        print(f"{race:<14} {findings.rounds} rounds x {args.workers}: {findings.succeeded} exited 0, {findings.refused} refused; {status}")
        for problem in findings.problems:
            print(f"  - {problem}")
        failed = failed or bool(findings.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
