"""``rfconsole`` with no command: open the console on the working folder and the configured hosts."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from rfconsole.tui.context import ConsoleContext

if TYPE_CHECKING:
    from rfconsole.tui.app import RfconsoleApp


def build_context(args: argparse.Namespace) -> ConsoleContext:
    """The working folder, its store and config, and the fleet (the demo's test driver with --demo)."""
    from rfconsole.config import Config
    from rfconsole.store import Store, Workdir
    from rfconsole.virt.fleet import Fleet

    workdir = Workdir(args.workdir)
    store = Store(workdir)
    config = Config.load(workdir)
    fleet = Fleet.from_args(config, store, demo=bool(getattr(args, "demo", False)), connect=getattr(args, "connect", None),
                            read_only=bool(getattr(args, "read_only", False)))
    return ConsoleContext(workdir=workdir, store=store, config=config, fleet=fleet)


def start_ondemand(context: ConsoleContext) -> None:
    """With an rfconsole.toml (not in the demo nor read-only), listen for switches and boot their VMs on demand;
    a port in use or a bad map is shown in the console, which opens anyway."""
    if context.demo or context.read_only or not getattr(context.config, "found", False):
        return
    from rfconsole.errors import RfconsoleError
    from rfconsole.ondemand.service import OnDemand

    try:
        ondemand = OnDemand(context.fleet, context.store, context.config.ondemand)
        ondemand.start_in_thread()
    except RfconsoleError as error:
        context.startup_problems.append(error)
        return
    context.switches = ondemand


CRASH_MESSAGE = (
    "rfconsole: the console stopped on an unexpected error (Textual's report of it is above). "
    "Files in XML/ are only ever replaced whole, so none is half-written; please report the error."
)


def run_app(app: RfconsoleApp, **run_options: Any) -> int:
    """Run the console; its exit status. A crash exits non-zero and says so in words on stderr
    (Textual prints the traceback, but its own exit status would be 0)."""
    result = app.run(**run_options)
    if app.return_code:
        print(CRASH_MESSAGE, file=sys.stderr)
        return app.return_code
    return result or 0


def open_context(args: argparse.Namespace) -> ConsoleContext:
    """What the console works on: build_context, then the on-demand listener (start_ondemand)."""
    context = build_context(args)
    start_ondemand(context)
    return context


def run_console(args: argparse.Namespace) -> int:
    """The console: its first frame first, then (on a thread of the app's) the working folder, the
    config and the fleet; a problem opening them (a bad rfconsole.toml …) ends the console and is
    raised here, once the terminal is restored, as the CLI's error."""
    from rfconsole.tui.app import RfconsoleApp

    app = RfconsoleApp(lambda: open_context(args), poll_seconds=None)
    try:
        status = run_app(app)
    finally:
        context = app.opened_context()
        if context is not None:
            if context.switches is not None:
                context.switches.stop()
            context.fleet.close()
    if app.opening_error is not None:
        raise app.opening_error
    return status
