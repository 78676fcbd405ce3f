"""`rfconsole up` of a VM while `rfconsole reset` of the same VM runs, from two processes, on the
real libvirtd with the tiny TCG guest: both exit 0 and the VM runs, every round (issue 16 item 1;
before the VM's lock, `up` failed 9 of 20 with "domain already exists" or monitor errors).

    .venv/bin/python -m bench._reset_races [--rounds 20]

Not a benchmark (it checks correctness): a private module, so `python -m bench` does not run it.
It runs tests/integration/test_reset.py's race test (10 rounds in `make test`) with more rounds:
the same fixtures (the daemons' lock, the tiny guest, overlays of one base) and the same checks.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/integration/test_reset.py::test_up_while_reset_runs_waits_for_it_and_succeeds"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._reset_races", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "integration", TEST],
        cwd=ROOT, env={**os.environ, "RFCONSOLE_UP_WHILE_RESET_ROUNDS": str(args.rounds)}, check=False,
    )
    verdict = "every round: reset and up both exit 0, the VM running" if result.returncode == 0 else "FAILED (pytest's report above)"
    print(f"up while reset, {args.rounds} rounds on the real libvirtd: {verdict} ({time.monotonic() - started:.0f} s)")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
