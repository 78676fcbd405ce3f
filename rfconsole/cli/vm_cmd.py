"""``rfconsole up|down|redeploy|define|undefine|start|shutdown|destroy|suspend|resume|reboot|power-cycle|reset|status`` (parsers: vm_args.py).

Lifecycle commands take VM names (default: rftest2's rfvmA–rfvmD), run on all of them at once,
print one line per VM as it finishes and a summary at the end; exit 0 only when every VM
succeeded. See docs/lifecycle.md.
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from rfconsole.cli import EXIT_FAILED, EXIT_OK, output_lost
from rfconsole.virt.demo import DEMO_BANNER
from rfconsole.virt.events import HostState
from rfconsole.virt.fleet import DEFAULT_VMS, Fleet, OperationResult

STATUS_COLUMNS = ("NAME", "HOST", "HYPERVISOR", "STATE", "VCPUS", "MEMORY", "CPU%", "OWNED")

def open_fleet(args: argparse.Namespace, announce_demo: bool = True) -> Fleet:
    """The Fleet the global options ask for; says so on stderr when it is the demo (unless the
    caller words that itself: ``announce_demo=False``)."""
    from rfconsole.config import Config
    from rfconsole.store import Store, Workdir

    workdir = Workdir(args.workdir)
    config = Config.load(workdir)
    fleet = Fleet.from_args(config, Store(workdir), demo=bool(getattr(args, "demo", False)), connect=getattr(args, "connect", None),
                            read_only=bool(getattr(args, "read_only", False)))
    if fleet.demo and announce_demo:
        print(f"rfconsole: {DEMO_BANNER}", file=sys.stderr)
    return fleet


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if getattr(args, "host", None):
        options["host"] = args.host
    if getattr(args, "force", False):
        options["force"] = True
    if hasattr(args, "timeout") and args.timeout is not None:
        options["timeout"] = args.timeout
    if getattr(args, "no_destroy", False):
        options["destroy_after"] = False
    if getattr(args, "no_wait", False):
        options["wait"] = False
    if getattr(args, "snapshot", None):
        options["snapshot"] = args.snapshot
    return options


_OUTPUT_LOCK = threading.Lock()


def _say(text: str, stream: TextIO) -> None:
    """One whole line from any worker thread: print() writes text and newline apart, so lines interleave."""
    with _OUTPUT_LOCK:
        stream.write(text + "\n")
        stream.flush()


def run_lifecycle(args: argparse.Namespace) -> int:
    names = args.vms or list(DEFAULT_VMS)
    fleet = open_fleet(args)
    try:
        print(f"{args.command}: {' '.join(names)} …", file=sys.stderr, flush=True)

        def progress(result: OperationResult, done: int, total: int) -> None:
            mark = "ok    " if result.ok else "FAILED"
            _say(f"[{done}/{total}] {mark} {result.name}: {result.message} ({result.elapsed:.2f} s)", sys.stdout)
            if not result.ok and result.hint:
                _say(f"              hint: {result.hint}", sys.stdout)

        def stage(name: str, step: str) -> None:
            _say(f"  {name}: {step} …", sys.stderr)

        results = fleet.run_many(args.operation, names, progress=progress, stage=stage, **_options(args))
    finally:
        fleet.close()
    print_summary(results, sys.stdout, args.command)
    return EXIT_OK if all(result.ok for result in results) else EXIT_FAILED


def print_summary(results: list[OperationResult], out: TextIO, command: str) -> None:
    rows = [("VM", "RESULT", "TIME", "DETAIL")] + [
        (r.name, "ok" if r.ok else "FAILED", f"{r.elapsed:.2f} s", r.message.splitlines()[0] if r.message else "") for r in results
    ]
    print("", file=out)
    print_table(rows, out)
    failed = sum(1 for r in results if not r.ok)
    print(f"{command}: {len(results) - failed} of {len(results)} ok" + (f", {failed} failed" if failed else ""), file=out)


def print_table(rows: Sequence[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip(), file=out)


def status_rows(statuses: list[Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [STATUS_COLUMNS]
    for s in statuses:
        rows.append((
            s.name, s.host, s.hypervisor.value if s.hypervisor else "?", s.state.value, str(s.vcpus),
            f"{s.memory_mib} MiB", f"{s.cpu_percent:.1f}", "yes" if s.owned else "no",
        ))
    return rows


def host_state_line(state: HostState) -> str:
    """``host NAME: connected (URI)``, or ``down since HH:MM:SS, retrying in N s`` for one that is not."""
    if state.connected:
        words = "connected"
    elif state.down_since is None:
        words = "not connected"
    else:
        words = f"down since {time.strftime('%H:%M:%S', time.localtime(state.down_since))}"
        if state.retry_at is not None:
            words += f", retrying in {max(0, math.ceil(state.retry_at - time.time()))} s"
    return f"host {state.name}: {words} ({state.uri})"


def run_status(args: argparse.Namespace) -> int:
    fleet = open_fleet(args)
    try:
        if args.watch:
            return _watch(fleet, args)
        # running domains are sampled twice for their CPU %: at most a second apart here, so a script's status stays quick
        statuses, problems = fleet.lab_statuses(sample_cpu=min(fleet.stats_interval, 1.0))
        _print_status(statuses, args.json, sys.stdout)
        if not fleet.demo:
            for state in fleet.host_states():
                print(host_state_line(state), file=sys.stderr)
        for problem in problems:
            print(f"rfconsole: error: {problem.message}", file=sys.stderr)
            if problem.hint:
                print(f"  hint: {problem.hint}", file=sys.stderr)
        return EXIT_FAILED if problems else EXIT_OK
    finally:
        fleet.close()


def _print_status(statuses: list[Any], as_json: bool, out: TextIO) -> None:
    if as_json:
        import json  # only status --json: up, down, redeploy … do not import it

        json.dump([status.to_json() for status in statuses], out, indent=2)
        out.write("\n")
    elif statuses:
        print_table(status_rows(statuses), out)
    else:
        print("no domains", file=out)
    out.flush()


def _watch(fleet: Fleet, args: argparse.Namespace) -> int:
    """Redraw on every event of any host, and at least every stats interval; Ctrl-C ends (exit 0)."""
    changed = threading.Event()
    interval = fleet.stats_interval
    fleet.subscribe(lambda _event: changed.set())
    clear = sys.stdout.isatty() and not args.json
    try:
        while True:
            statuses, problems = fleet.lab_statuses()
            if clear:
                sys.stdout.write("\x1b[H\x1b[2J")
            _print_status(statuses, args.json, sys.stdout)
            for problem in problems:
                print(f"(host unreachable: {problem.message})", file=sys.stderr)
            if not args.json:
                print("", flush=True)
            if output_lost():  # nobody reads any more (`| head`): main says so
                return EXIT_OK
            changed.wait(interval)
            changed.clear()
    except KeyboardInterrupt:
        return EXIT_OK
