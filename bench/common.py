"""What the bench modules share: the row format, statistics, the machine's description."""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any


def row(bench: str, baseline: str | None, baseline_s: float | None, value_s: float, **extra: Any) -> dict[str, Any]:
    """One result in the convention of bench/__init__.py."""
    return {
        "bench": bench,
        "baseline": baseline,
        "baseline_s": None if baseline_s is None else round(baseline_s, 5),
        "value_s": round(value_s, 5),
        "ratio": round(value_s / baseline_s, 3) if baseline_s else None,
        **extra,
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.5 is the median, 0.99 the 99th)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def _command_output(*command: str) -> str | None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def libvirt_version() -> str:
    text = _command_output("libvirtd", "--version")
    return text.split()[-1] if text else "unknown"


def machine() -> dict[str, str]:
    """Where the numbers were measured."""
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu_model(),
        "kernel": platform.release(),
        "libvirt": libvirt_version(),
        "python": platform.python_version(),
        "load_average": " ".join(f"{load:.2f}" for load in os.getloadavg()),
    }


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as an aligned text table; keys beyond the standard ones go in a last column."""
    standard = ("bench", "value_s", "baseline_s", "ratio", "baseline")
    lines = [("bench", "value_s", "baseline_s", "ratio", "baseline", "more")]
    for result in rows:
        more = ", ".join(f"{key}={value}" for key, value in result.items() if key not in standard)
        lines.append(tuple("" if result.get(key) is None else str(result.get(key)) for key in standard) + (more,))
    widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[-1] for line in lines
    ).rstrip()


def compile_bytecode() -> None:
    """Write rfconsole's .pyc files, as installing it does. Without them (an editable install run
    with PYTHONDONTWRITEBYTECODE set, as on the project's machines) every command compiles its
    modules from source first, a cost no installed rfconsole pays."""
    import compileall
    from pathlib import Path

    compileall.compile_dir(str(Path(__file__).resolve().parents[1] / "rfconsole"), quiet=1)


DAEMONS_LOCK = "/tmp/rfconsole-daemons.lock"


_lock_depth = 0  # holds of the lock in this process: a nested hold must not wait for the outer one


@contextlib.contextmanager
def hold_daemons_lock(waiting_message: str) -> Iterator[None]:
    """Hold the machine's one set of real daemons: integration sessions and ``bench.redeploy`` use
    the same domain names (rfvmA–rfvmD, rfit-…), so each waits here for the others. Reentrant in
    one process (tests/integration and tests/e2e both hold it in one pytest session)."""
    global _lock_depth
    if _lock_depth:
        _lock_depth += 1
        try:
            yield
        finally:
            _lock_depth -= 1
        return
    with open(DAEMONS_LOCK, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(waiting_message, file=sys.stderr)
            fcntl.flock(lock, fcntl.LOCK_EX)
        _lock_depth = 1
        try:
            yield
        finally:
            _lock_depth = 0


SHUT_OFF_QEMU_DOMAIN = """<domain type='qemu'><name>{name}</name><memory unit='MiB'>32</memory>
<os><type arch='x86_64'>hvm</type></os></domain>"""


def undefine_prefixed(connection: Any, prefix: str) -> None:
    for domain in connection.listAllDomains(0):
        if domain.name().startswith(prefix):
            domain.undefine()


@contextlib.contextmanager
def shut_off_domains(connection: Any, prefix: str, count: int) -> Iterator[float]:
    """``count`` shut-off QEMU domains (PREFIX0000 …) defined on ``connection`` (a libvirt-python
    connection to the real libvirtd) for the block, undefined after even when it fails; yields
    the seconds the defining took. Their figures would measure QEMU if they ran: they never do."""
    undefine_prefixed(connection, prefix)  # a run killed half-way left some
    started = time.perf_counter()
    try:
        for index in range(count):
            connection.defineXML(SHUT_OFF_QEMU_DOMAIN.format(name=f"{prefix}{index:04d}"))
        yield time.perf_counter() - started
    finally:
        undefine_prefixed(connection, prefix)
