"""Start-up of the command line, against Python's own start-up measured in the same run.

rftest2 calls the CLI in loops, so what a command costs before it does anything matters:

- ``startup.help``: ``rfconsole --help``;
- ``startup.xml_show``: ``rfconsole xml show rfvmA`` (reads, checks and prints one domain XML:
  lxml and model/rules.py, no pydantic);
- ``startup.status_json_demo``: ``rfconsole --demo status --json`` (libvirt's test driver: the
  whole path of a status, no daemon, nothing running so no CPU sample to wait for);

- ``startup.import_spec_model``: ``python -c "import rfconsole.model.spec"``, pydantic and the
  DomainSpec models built: what any command that builds a spec (xml new/set, the console's
  wizard) cannot do without;

each against ``python -c pass`` with the same interpreter (the virtual environment's, which the
``rfconsole`` script runs on). Rounds run every command once, in turn, so a load that comes and
goes hits all of them; medians over ROUNDS. rfconsole's .pyc files are written first, as an
install does (bench.common.compile_bytecode). No daemon needed.

Run alone: .venv/bin/python -m bench.startup
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import compile_bytecode, median, row

ROUNDS = 21
RFCONSOLE = str(Path(sys.executable).with_name("rfconsole"))
BASELINE = "python -c pass (same interpreter)"


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False, timeout=60)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed


def _workdir(root: Path) -> Path:
    """A working folder holding XML/rfvmA.xml, written by rfconsole itself."""
    subprocess.run(
        [RFCONSOLE, "--workdir", str(root), "xml", "new", "--hypervisor", "qemu", "--preset", "rfvmA"],
        capture_output=True, text=True, check=True, timeout=60,
    )
    return root


def run() -> list[dict]:
    compile_bytecode()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="rfconsole-bench-") as folder:
        workdir = str(_workdir(Path(folder)))
        commands = {
            "baseline": [sys.executable, "-c", "pass"],
            "help": [RFCONSOLE, "--help"],
            "xml_show": [RFCONSOLE, "--workdir", workdir, "xml", "show", "rfvmA"],
            "status_json_demo": [RFCONSOLE, "--workdir", workdir, "--demo", "status", "--json"],
            "import_spec_model": [sys.executable, "-c", "import rfconsole.model.spec"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # warm-up: page cache, .pyc files
            _timed(command)
        for _ in range(ROUNDS):
            for name, command in commands.items():
                times[name].append(_timed(command))
    baseline = median(times["baseline"])
    common = {"repeats": ROUNDS, "load_1min_before": round(load, 2)}
    return [
        row("startup.help", BASELINE, baseline, median(times["help"]), **common),
        row("startup.xml_show", BASELINE, baseline, median(times["xml_show"]), **common),
        row("startup.status_json_demo", BASELINE, baseline, median(times["status_json_demo"]), **common),
        row("startup.import_spec_model", BASELINE, baseline, median(times["import_spec_model"]), **common),
    ]


if __name__ == "__main__":
    from bench.common import format_table

    print(format_table(run()))
