"""``rfconsole`` with no command: open the console on the working folder and the configured hosts."""

from __future__ import annotations

import argparse

from rfconsole.tui.context import ConsoleContext


def build_context(args: argparse.Namespace) -> ConsoleContext:
    """The working folder, its store and config, and the fleet (the demo's test driver with --demo)."""
    from rfconsole.config import Config
    from rfconsole.store import Store, Workdir
    from rfconsole.virt.fleet import Fleet

    workdir = Workdir(args.workdir)
    store = Store(workdir)
    config = Config.load(workdir)
    demo = bool(getattr(args, "demo", False))
    fleet = Fleet.from_args(config, store, demo=demo, connect=getattr(args, "connect", None))
    return ConsoleContext(workdir=workdir, store=store, config=config, fleet=fleet, demo=demo)


def run_console(args: argparse.Namespace) -> int:
    from rfconsole.tui.app import RfconsoleApp

    context = build_context(args)
    app = RfconsoleApp(context)
    try:
        result = app.run()
    finally:
        context.fleet.close()
    return result or 0
