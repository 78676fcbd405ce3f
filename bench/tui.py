"""The console's speed, as ratios against baselines measured in the same run.

- first frame (bench/_first_frame.py): the console (``rfconsole --demo`` through its entry point,
  headless) against a bare Textual app with the same widgets (the home screen's header, filter box,
  DataTable with the same columns and four rows, progress bar, status line and key bar), both
  stopped at the same frames, seen the same way: the first frame painted, and the first showing
  the four VMs (the bare app's first frame already does). Twice: in this process (Textual and,
  after a warm-up, rfconsole already imported) and in a fresh process each (Python's start-up and
  every import count, as when a user types ``rfconsole``);
- key press -> updated screen with 1,000 domains (a generated node XML on libvirt's test driver)
  against the same with 40 (one screenful, so both draw as many rows): moving the cursor, and starting a domain until its row says
  running (libvirt's event, then one cell changed in place); and the UI thread's share of one
  status poll (every stats_interval seconds);
- the same at 1,000 shut-off QEMU domains on the real libvirtd against 40 there (``tui.real.*``,
  defined for the run and undefined after): the cursor move, the poll applied on the UI thread,
  and the whole refresh (the statuses read in one getAllDomainStats call, then applied).

Run alone: .venv/bin/python -m bench.tui (or through python -m bench).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import _first_frame as first_frame
from bench.common import (
    DAEMONS_LOCK,
    compile_bytecode,
    hold_daemons_lock,
    median,
    row,
    shut_off_domains,
)
from rfconsole.tui import fleetview

REPEATS = 5
FIRST_FRAME_REPEATS = 15  # each run is short and a shared machine's load moves single runs by tens of ms
SIZE = (120, 40)
SCREENFUL = 40  # as many rows as the 120x40 screen shows: the baseline renders as much as the 1,000 case


def _node_xml(count: int) -> str:
    domains = "\n".join(
        f"  <domain type='test'><name>vm{index:04d}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        f"<os><type>hvm</type></os><test:runstate>5</test:runstate></domain>"
        for index in range(count)
    )
    return f"<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n{domains}\n</node>\n"


def _console(workdir: Path, connect: str | None):
    from rfconsole.tui.app import RfconsoleApp
    from rfconsole.tui.launch import build_context

    (workdir / "XML").mkdir(parents=True, exist_ok=True)
    (workdir / "Images").mkdir(exist_ok=True)
    context = build_context(argparse.Namespace(workdir=workdir, demo=connect is None, connect=connect))
    return RfconsoleApp(context, poll_seconds=0), context


async def _until(pilot, predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the console did not reach the expected state")
        await pilot.pause(0.001)


def _table(app):
    from rfconsole.tui.widgets.domaintable import DomainTable

    return app.screen.query_one(DomainTable)


def _filled(app, count: int) -> bool:
    try:
        return _table(app).row_count >= count
    except Exception:  # noqa: BLE001 - the screen is not up yet
        return False


def _row_state(app, index: int) -> str:
    return str(_table(app).get_row_at(index)[4])


async def _key_presses(workdir: Path, connect: str | None, count: int, start_domains: bool = True) -> tuple[float, float, float, float]:
    """Median seconds for: a cursor move (down), start -> the row says running (0.0 unless
    ``start_domains``), applying one status poll on the UI thread, and the whole refresh (the
    poll's statuses read, then applied)."""
    app, context = _console(workdir, connect)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _until(pilot, lambda: _filled(app, count))
            moves = []
            for _ in range(REPEATS):
                start = time.perf_counter()
                await pilot.press("down")
                moves.append(time.perf_counter() - start)
            starts = [0.0]
            for index in range(min(REPEATS, count) if start_domains else 0):  # each start on a row still shut off
                _table(app).move_cursor(row=index)
                await pilot.pause()
                begin = time.perf_counter()
                await pilot.press("s")
                await _until(pilot, lambda index=index: _row_state(app, index) == "running")
                starts.append(time.perf_counter() - begin)
            polls, refreshes = [], []
            for _ in range(REPEATS):  # a poll: statuses read off the UI thread, then applied on it
                read = time.perf_counter()
                statuses, _problems = fleetview.statuses_and_problems(context)
                begin = time.perf_counter()
                app.screen.table.apply_statuses(statuses, complete=True)
                done = time.perf_counter()
                polls.append(done - begin)
                refreshes.append(done - read)
            return median(moves), median(starts[1:] or starts), median(polls), median(refreshes)
    finally:
        context.fleet.close()


FIRST_FRAME = Path(__file__).with_name("_first_frame.py")


def _process_first_frame(side: str, workdir: Path) -> dict[str, float]:
    """Seconds from just before the process starts to its first frame and to its filled frame."""
    started = time.perf_counter()  # CLOCK_MONOTONIC, as the child's stamps
    command = [sys.executable, str(FIRST_FRAME), side, str(workdir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"first frame ({side}) failed: {done.stderr.strip()[-500:]}")
    stamps = json.loads(done.stdout.strip().splitlines()[-1])
    return {frame: stamp - started for frame, stamp in stamps.items()}


def _in_process_first_frame(side: str, workdir: Path) -> dict[str, float]:
    started = time.perf_counter()
    stamps = first_frame.run_bare() if side == "bare" else first_frame.run_console(str(workdir))
    return {frame: stamp - started for frame, stamp in stamps.items()}


def _first_frames(root: Path, measure: Callable[..., dict[str, float]], name: str) -> dict[str, dict[str, float]]:
    """Medians of each frame's seconds for (bare, console), each run FIRST_FRAME_REPEATS times in
    turn, after one warm-up each."""
    workdir = root / name
    (workdir / "XML").mkdir(parents=True)
    (workdir / "Images").mkdir()
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "console": []}
    for side in runs:  # warm-up
        measure(side, workdir)
    for _ in range(FIRST_FRAME_REPEATS):
        for side, results in runs.items():
            results.append(measure(side, workdir))
    return {side: {frame: median([run[frame] for run in results]) for frame in ("first", "filled")} for side, results in runs.items()}


def _first_frame_rows(root: Path) -> list[dict]:
    bare = "bare Textual app, same widgets and rows"
    rows = []
    for bench, measure, where in (("tui.first_paint", _in_process_first_frame, "in this process"),
                                  ("tui.process_first_frame", _process_first_frame, "a fresh process each")):
        frames = _first_frames(root, measure, bench)
        rows += [
            row(bench, f"{bare}, its first frame ({where})", frames["bare"]["first"], frames["console"]["first"],
                frame="first painted", domains=4, repeats=FIRST_FRAME_REPEATS),
            row(f"{bench}_filled", f"{bare}, its first frame ({where})", frames["bare"]["filled"], frames["console"]["filled"],
                frame="first showing the four VMs", domains=4, repeats=FIRST_FRAME_REPEATS),
        ]
    return rows


async def _key_rows(root: Path) -> list[dict]:
    screenful, big = root / "node-40.xml", root / "node-1000.xml"
    screenful.write_text(_node_xml(SCREENFUL))
    big.write_text(_node_xml(1000))
    move_40, start_40, poll_40, _ = await _key_presses(root / "screenful", f"test://{screenful}", SCREENFUL)
    move_1000, start_1000, poll_1000, _ = await _key_presses(root / "big", f"test://{big}", 1000)
    return [
        row("tui.key_cursor_down_1000", f"same key with {SCREENFUL} domains (one screenful)", move_40, move_1000, domains=1000, repeats=REPEATS),
        row("tui.key_start_to_running_row_1000", f"same key with {SCREENFUL} domains (one screenful)", start_40, start_1000, domains=1000, repeats=min(REPEATS, SCREENFUL)),
        row("tui.poll_apply_ui_thread_1000", f"same with {SCREENFUL} domains", poll_40, poll_1000, domains=1000, repeats=REPEATS),
    ]


REAL_URI = "qemu:///system"
REAL_PREFIX = "rfbench-tui-"


async def _real_key_rows(root: Path) -> list[dict]:
    """The same at 1,000 shut-off domains on the real libvirtd (one getAllDomainStats poll per
    tick), against one screenful there; no start key: that would boot QEMU guests."""
    import libvirt

    with hold_daemons_lock(f"bench.tui: waiting for the integration tests to release {DAEMONS_LOCK}"):
        connection = libvirt.open(REAL_URI)
        try:
            others = len(connection.listAllDomains(0))
            with shut_off_domains(connection, REAL_PREFIX, SCREENFUL):
                move_40, _, poll_40, refresh_40 = await _key_presses(root / "real-screenful", REAL_URI, others + SCREENFUL, start_domains=False)
            with shut_off_domains(connection, REAL_PREFIX, 1000):
                move_1000, _, poll_1000, refresh_1000 = await _key_presses(root / "real-big", REAL_URI, others + 1000, start_domains=False)
        finally:
            connection.close()
    where = f"same with {SCREENFUL} domains on the real libvirtd"
    return [
        row("tui.real.key_cursor_down_1000", where, move_40, move_1000, domains=1000, repeats=REPEATS),
        row("tui.real.poll_apply_ui_thread_1000", where, poll_40, poll_1000, domains=1000, repeats=REPEATS),
        row("tui.real.refresh_1000", where, refresh_40, refresh_1000, domains=1000, repeats=REPEATS,
            note="statuses read (one getAllDomainStats call) and applied to the table"),
    ]


def run() -> list[dict]:
    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="rfconsole-bench-") as folder:
        root = Path(folder)
        return _first_frame_rows(root) + asyncio.run(_key_rows(root)) + asyncio.run(_real_key_rows(root))


if __name__ == "__main__":
    for result in run():
        print(result, file=sys.stdout)
