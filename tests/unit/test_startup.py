"""Start-up: `rfconsole --help` and every `COMMAND --help` build their parsers without importing
what only running a command needs (docs/architecture.md, "Adding a command"; docs/performance.md).

Each case runs in a fresh interpreter, since this test process has imported everything."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from rfconsole.cli import Commands, build_parser, implementation

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
    commands = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    if not commands:
        return [(prefix, parser)]
    assert isinstance(commands[0], Commands), f"{parser.prog}: add subcommands with add_subparsers(action=Commands)"
    return [leaf for name in list(commands[0].choices) for leaf in _leaf_commands(commands[0].parser(name), prefix + (name,))]


COMMANDS = _leaf_commands(build_parser())


def _modules_after(argv: list[str]) -> tuple[str, set[str]]:
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(argv)], capture_output=True, text=True, timeout=60)
    modules = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, {module.partition(".")[0] for module in modules}


def test_parsing_a_command_builds_its_parser_alone():
    parser = build_parser()
    commands = next(action for action in parser._actions if isinstance(action, Commands))
    args = parser.parse_args(["redeploy", "rfvmA", "--force"])
    assert (args.command, args.vms, args.force, args.run) == ("redeploy", ["rfvmA"], True, "rfconsole.cli.vm_cmd:run_lifecycle")
    built = [name for name, sub in commands.choices.items() if sub is not None]
    assert built == ["redeploy"]


def test_an_unknown_command_is_a_usage_error_listing_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["redeplo"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'redeplo'" in err and "'redeploy'" in err


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
