"""``rfconsole migrate VM HOST`` (parser in migrate_args.py), through rfconsole/virt/migrate.py."""

from __future__ import annotations

import argparse
import sys

from rfconsole.cli import EXIT_OK
from rfconsole.cli.vm_cmd import open_fleet
from rfconsole.virt.host import MigrationProgress
from rfconsole.virt.migrate import migrate


def progress_line(name: str, progress: MigrationProgress) -> str:
    mib = 2**20
    return (f"  {name}: {progress.data_remaining / mib:.1f} MiB remaining of {progress.data_total / mib:.1f} MiB, "
            f"{progress.elapsed_ms / 1000:.1f} s")


def run_migrate(args: argparse.Namespace) -> int:
    fleet = open_fleet(args)
    try:
        plan = fleet.plan_migration(args.vm, args.target, args.mode, args.force)
        print(f"migrate: {plan.name} {'live' if plan.live else 'offline'} from host {plan.source.name} "
              f"to host {plan.target.name}; {plan.storage}", file=sys.stderr, flush=True)
        done = migrate(plan, lambda progress: print(progress_line(plan.name, progress), file=sys.stderr, flush=True))
        print(done)
    finally:
        fleet.close()
    return EXIT_OK
