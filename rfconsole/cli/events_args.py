"""The parser of ``rfconsole events``; the command is in events_cmd.py.

argparse and light constants only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse
import re
import time

from rfconsole.cli import Commands

_AGO = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d)")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def register(commands: Commands) -> None:
    commands.add(
        "events",
        "the lab's event timeline: lifecycle events, switches, on-demand boots, operations",
        _arguments,
        run="rfconsole.cli.events_cmd:run_events",
        description="The working folder's event timeline (events.jsonl, rotated): every lifecycle event of every host "
        "and every switch up/down and on-demand boot (with its latency) that `rfconsole watch` or the console saw, and "
        "every lifecycle operation, snapshot, revert, reset, clone, undefine, redeploy and migrate done through rfconsole, "
        "with time and host (a --read-only session records nothing). "
        "--follow prints new events as they come until interrupted.",
    )


def since_time(text: str) -> float:
    """An argparse type: 30s, 10m, 2h, 1d ago; HH:MM[:SS] today; or an ISO date and time (local
    time unless it names its zone). The time.time() it means."""
    from datetime import datetime

    text = text.strip()
    if match := _AGO.fullmatch(text):
        return time.time() - float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    try:
        if re.fullmatch(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?", text):
            clock = datetime.strptime(text.split(".")[0], "%H:%M:%S" if text.count(":") == 2 else "%H:%M")
            return datetime.now().replace(hour=clock.hour, minute=clock.minute, second=clock.second, microsecond=0).timestamp()
        return datetime.fromisoformat(text).timestamp()
    except (ValueError, OverflowError, OSError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: give how long ago (30s, 10m, 2h, 1d), a time of today (14:05) or an ISO date and time "
            "(2026-12-05T14:05)"
        ) from None


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--follow", "-f", action="store_true", help="keep printing new events until interrupted")
    parser.add_argument("--json", action="store_true", help="one JSON object per event, one per line")
    parser.add_argument("--since", type=since_time, metavar="WHEN",
                        help="only events since WHEN: how long ago (30s, 10m, 2h, 1d), a time of today (14:05) or an ISO date and time")
