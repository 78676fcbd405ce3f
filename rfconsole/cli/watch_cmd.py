"""``rfconsole watch``: headless on-demand boot, for rftest2 (see docs/ondemand.md; parser: watch_args.py)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from rfconsole.cli.vm_cmd import open_fleet
from rfconsole.ondemand.listener import parse_listen_address
from rfconsole.ondemand.service import OnDemand
from rfconsole.virt.timeline import Timeline


def _log_to_stderr() -> None:
    logger = logging.getLogger("rfconsole.ondemand")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def run_watch(args: argparse.Namespace) -> int:
    listen = parse_listen_address(args.listen) if args.listen else None
    _log_to_stderr()
    fleet = open_fleet(args)
    try:
        service = OnDemand(
            fleet, fleet.store, fleet.config.ondemand, routeflow_config=args.routeflow_config, listen=listen, enabled=not args.off
        )
        for line in service.describe_mapping():
            print(f"rfconsole: {line}", file=sys.stderr)
        timeline = fleet.timeline
        if timeline is not None:  # switches, boots and every host's lifecycle events, for `rfconsole events` and `map`
            service.record_on(timeline)
            fleet.record_lifecycle_events()  # each host's by one process of the folder (the console may hold the role)
            fleet.collect_statuses()  # connects every reachable host: its events come from now on
        asyncio.run(_serve(service, timeline))
    finally:
        fleet.close()
    return 0


async def _serve(service: OnDemand, timeline: Timeline | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    listening: list[str] = []

    def ready(address: tuple[str, int]) -> None:
        host, port = address
        listening.append(f"{host}:{port}")
        if timeline is not None:
            timeline.record("watch", listening[0], "watching for OpenFlow switches")
        print(f"rfconsole: watching for OpenFlow switches on {host}:{port} (Ctrl-C to stop)", file=sys.stderr, flush=True)

    try:
        await service.serve(stop, ready)
    finally:
        service.booter.close()
        if timeline is not None:  # its switches are no longer connected to rfconsole
            timeline.record("watch", listening[0] if listening else "", "stopped watching")
        print("rfconsole: stopped watching", file=sys.stderr)
