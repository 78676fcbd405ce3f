"""python -m bench [MODULE …] [--json]: run the benchmarks and print one table.

Every module of this package except ``common``, ``__main__`` and private ones is a benchmark
(see bench/__init__.py for the convention). A module that cannot measure (a daemon missing, a
crash) is reported and the others still run; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import traceback

import bench
from bench.common import format_table, machine

NOT_BENCHMARKS = {"common", "__main__"}


def bench_modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules(bench.__path__)
        if info.name not in NOT_BENCHMARKS and not info.name.startswith("_")
    )


def main(argv: list[str] | None = None) -> int:
    known = bench_modules()
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run rfconsole's benchmarks.")
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"run only these ({', '.join(known)})")
    parser.add_argument("--json", action="store_true", help="print the rows (and the machine) as JSON")
    args = parser.parse_args(argv)
    unknown = [name for name in args.modules if name not in known]
    if unknown:
        parser.error(f"no benchmark called {', '.join(unknown)}; there are: {', '.join(known)}")
    rows: list[dict] = []
    failed: list[str] = []
    for name in args.modules or known:
        print(f"bench: running {name} …", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            rows.extend(module.run())
        except Exception as error:  # noqa: BLE001 - one broken benchmark must not hide the others
            failed.append(name)
            traceback.print_exc()
            print(f"bench: {name} could not measure: {error}", file=sys.stderr)
    facts = machine()
    if args.json:
        print(json.dumps({"machine": facts, "rows": rows, "failed": failed}, indent=2))
    else:
        print("machine: " + ", ".join(f"{key} {value}" for key, value in facts.items()))
        print(format_table(rows))
        if failed:
            print(f"could not measure: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
