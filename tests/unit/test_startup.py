"""Start-up: `rfconsole --help` and every `COMMAND --help` build their parsers without importing
what only running a command needs (docs/architecture.md, "Adding a command"; docs/performance.md).

Each case runs in a fresh interpreter, since this test process has imported everything."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from rfconsole.cli import build_parser, implementation

HEAVY = ("textual", "libvirt", "lxml", "pydantic")

_PROBE = """
import json, sys
from rfconsole.cli import main
try:
    main(json.loads(sys.argv[1]))
except SystemExit:
    pass
sys.stdout.flush()
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every runnable command (`xml show`, `redeploy` …) with its parser."""
    subparsers = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    if not subparsers:
        return [(prefix, parser)]
    return [leaf for name, sub in subparsers[0].choices.items() for leaf in _leaf_commands(sub, prefix + (name,))]


COMMANDS = _leaf_commands(build_parser())


def _modules_after(argv: list[str]) -> tuple[str, set[str]]:
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(argv)], capture_output=True, text=True, timeout=60)
    modules = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, {module.partition(".")[0] for module in modules}


def test_every_command_group_is_listed():
    names = {command[0] for command, _ in COMMANDS}
    assert {"xml", "up", "down", "redeploy", "status", "watch"} <= names


@pytest.mark.parametrize("argv", [[], *[list(command) for command, _ in COMMANDS]], ids=lambda argv: " ".join(argv) or "rfconsole")
def test_help_imports_nothing_heavy(argv):
    out, modules = _modules_after([*argv, "--help"])
    assert "usage: rfconsole" in out
    assert modules.isdisjoint(HEAVY), f"`{' '.join(['rfconsole', *argv, '--help'])}` imported {sorted(modules & set(HEAVY))}"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[0]))
def test_every_command_names_an_implementation_that_exists(command):
    _, parser = command
    run = parser.get_default("run")
    assert run, "the parser names no implementation: set_defaults(run='rfconsole.cli.<group>_cmd:function')"
    assert callable(implementation(run))
