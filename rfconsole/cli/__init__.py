"""Command line: ``rfconsole [--workdir DIR] [--connect URI | --demo] COMMAND …``.

Each command group has two modules in this package: ``<group>_args.py`` builds its parsers
(``register(subparsers)``; argparse and light constants only) and names each command's
implementation, ``set_defaults(run="rfconsole.cli.<group>_cmd:function")``, a function
``(args) -> int`` imported only when that command runs. So ``rfconsole --help`` and every
``COMMAND --help`` import no Textual, libvirt, lxml or pydantic (tests/unit/test_startup.py).
With no command the console opens. Exit codes: 0 ok, 1 invalid input or a failed operation, 2 usage.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path

from rfconsole import __version__
from rfconsole.errors import RfconsoleError, UsageError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

# The parser modules of the command groups, in the order of `rfconsole --help`.
COMMAND_GROUPS = ("xml_args", "image_args", "vm_args", "snapshot_args", "watch_args")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exits with 2 as well; keep its wording
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rfconsole",
        description="Set up and boot RouteFlow's VMs (rftest2's rfvmA–rfvmD and others) "
        "on KVM, QEMU or LXC through libvirt. With no command, opens the console.",
    )
    parser.add_argument("--version", action="version", version=f"rfconsole {__version__}")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path.cwd(),
        metavar="DIR",
        help="folder holding XML/ (domain XML) and Images/ (OS images); default: the current directory",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--connect", metavar="URI", help="libvirt URI of the host to use (e.g. qemu:///system)")
    target.add_argument(
        "--demo",
        action="store_true",
        help="use the embedded demo: libvirt's test driver holding rftest2's four VMs, no daemon needed",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_GROUPS:
        importlib.import_module(f"rfconsole.cli.{name}").register(sub)
    return parser


def implementation(run: str) -> Callable[[argparse.Namespace], int]:
    """The function a parser names as ``"package.module:function"``, imported now."""
    module, _, function = run.partition(":")
    return getattr(importlib.import_module(module), function)


def report(error: RfconsoleError) -> None:
    print(f"rfconsole: error: {error.message}", file=sys.stderr)
    if error.hint:
        print(f"  hint: {error.hint}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from rfconsole.tui.launch import run_console

            return run_console(args)
        return implementation(args.run)(args)
    except UsageError as error:
        report(error)
        return EXIT_USAGE
    except RfconsoleError as error:
        report(error)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("rfconsole: interrupted", file=sys.stderr)
        return 130
