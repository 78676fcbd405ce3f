"""``rfconsole events``: the working folder's event timeline (parser: events_args.py)."""

from __future__ import annotations

import argparse
import json
import sys

from rfconsole.cli import EXIT_OK, output_lost
from rfconsole.store import Workdir
from rfconsole.virt.timeline import Timeline, TimelineEntry, TimelineNote


def event_line(entry: TimelineEntry) -> str:
    """One event as the CLI and the console show it: local time, host, what it is about, what happened."""
    return f"{entry.when_words()}  {entry.kind:<9} {entry.host or '-':<10} {entry.subject}: {entry.what}"


def _show(item: TimelineEntry | TimelineNote, as_json: bool) -> None:
    if isinstance(item, TimelineNote):
        print(f"rfconsole: {item}", file=sys.stderr)
    elif as_json:
        print(json.dumps(item.to_json()), flush=True)
    else:
        print(event_line(item), flush=True)


def run_events(args: argparse.Namespace) -> int:
    timeline = Timeline(Workdir(args.workdir).root)
    if args.follow:
        for item in timeline.follow(args.since, stop=output_lost):
            _show(item, args.json)
        return EXIT_OK
    entries, notes = timeline.read(args.since)
    for note in notes:
        _show(note, args.json)
    for entry in entries:
        _show(entry, args.json)
    if not entries and not args.json:
        print(f"rfconsole: no events{' since then' if args.since is not None else ''} in {timeline.path}", file=sys.stderr)
    return EXIT_OK
