"""Start-up: `rfconsole --help` and every `COMMAND --help` build their parsers without importing
what only running a command needs (docs/architecture.md, "Adding a command"; docs/performance.md).

Each case runs in a fresh interpreter, since this test process has imported everything."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rfconsole.cli import build_parser, every_command, implementation, main

HEAVY = ("textual", "libvirt", "lxml", "pydantic")

_PROBE = """
import json, sys
from rfconsole.cli import main
try:
    code = main(json.loads(sys.argv[1]))
except SystemExit as exit:
    code = exit.code
sys.stdout.flush()
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


COMMANDS = list(every_command().items())


def _run(argv: list[str]) -> tuple[int, str, set[str]]:
    """(exit code, stdout, top-level packages imported) of ``rfconsole ARGV`` in a fresh interpreter."""
    code, out, modules = _run_modules(argv)
    return code, out, {module.partition(".")[0] for module in modules}


def _run_modules(argv: list[str]) -> tuple[int, str, set[str]]:
    """(exit code, stdout, every module imported) of ``rfconsole ARGV`` in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(argv)], capture_output=True, text=True, timeout=60)
    outcome = json.loads(done.stderr.strip().splitlines()[-1])
    return outcome["code"], done.stdout, set(outcome["modules"])


def test_parsing_a_command_builds_its_parser_alone():
    parser = build_parser()
    commands = parser.commands
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
    code, out, modules = _run([*argv, "--help"])
    assert code == 0 and "usage: rfconsole" in out
    assert modules.isdisjoint(HEAVY), f"`{' '.join(['rfconsole', *argv, '--help'])}` imported {sorted(modules & set(HEAVY))}"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[0]))
def test_every_command_names_an_implementation_that_exists(command):
    _, parser = command
    run = parser.get_default("run")
    assert run, "the parser names no implementation: set_defaults(run='rfconsole.cli.<group>_cmd:function')"
    assert callable(implementation(run))


def test_status_and_redeploy_read_documents_without_the_spec_model(tmp_path):
    """Reading states, ownership and files (status, redeploy's checks) needs lxml and libvirt,
    not pydantic: the spec model is built only where a spec is (xml new/set/show, the console)."""
    assert main(["--workdir", str(tmp_path), "xml", "new", "--hypervisor", "test", "--preset", "rfvmA"]) == 0
    (tmp_path / "Images").mkdir(exist_ok=True)
    (tmp_path / "Images" / "h1.img").write_bytes(b"")  # its image: a VM without it is not started
    for argv in (["status", "--json"], ["redeploy", "rfvmA"]):
        code, out, modules = _run(["--workdir", str(tmp_path), "--demo", *argv])
        assert code == 0, out
        assert "libvirt" in modules and "pydantic" not in modules, f"rfconsole {' '.join(argv)} imported pydantic"


def test_xml_show_and_validate_read_a_document_without_the_spec_model(tmp_path):
    """`xml show` and `xml validate` read, check and show a document through lxml and
    model/rules.py: pydantic's import and the models' build were most of `xml show`'s start-up."""
    assert main(["--workdir", str(tmp_path), "xml", "new", "--hypervisor", "qemu", "--preset", "rfvmA"]) == 0
    for argv in (["xml", "show", "rfvmA"], ["xml", "show", "--json", "rfvmA"], ["xml", "validate", str(tmp_path / "XML" / "rfvmA.xml")]):
        code, out, modules = _run(["--workdir", str(tmp_path), *argv])
        assert code == 0 and "rfvmA" in out, out
        assert "lxml" in modules and "pydantic" not in modules, f"rfconsole {' '.join(argv)} imported pydantic"


def test_status_up_and_redeploy_import_only_what_they_use(tmp_path):
    """The console, the details view and snapshots load when used, rfconsole.toml's reader when
    there is one (docs/performance.md, "Start-up"). (json, imported by `status --json` only, cannot
    be seen here: the probe itself imports it.)"""
    assert main(["--workdir", str(tmp_path), "xml", "new", "--hypervisor", "test", "--preset", "rfvmA"]) == 0
    (tmp_path / "Images").mkdir(exist_ok=True)
    (tmp_path / "Images" / "h1.img").write_bytes(b"")
    unused = {"rfconsole.virt.console", "rfconsole.virt.details", "rfconsole.virt.snapshots", "tomllib"}
    for argv in (["status", "--json"], ["up", "rfvmA"], ["redeploy", "rfvmA"]):
        code, out, modules = _run_modules(["--workdir", str(tmp_path), "--demo", *argv])
        assert code == 0, out
        assert "rfconsole.virt.fleet" in modules
        assert not modules & unused, f"rfconsole {' '.join(argv)} imported {sorted(modules & unused)}"


_LISTING_PROBE = """
import json, sys
from rfconsole.config import Config
from rfconsole.store import Store, Workdir
from rfconsole.tui import fleetview
from rfconsole.tui.context import ConsoleContext
from rfconsole.virt.fleet import Fleet

workdir = Workdir(sys.argv[1])
store = Store(workdir)
config = Config.load(workdir)
fleet = Fleet(config, store, demo=True)
context = ConsoleContext(workdir, store, config, fleet)
only_in_xml = [(s.name, s.state.value, s.vcpus, s.memory_mib) for s in fleet.stored_only(fleet.statuses())]
print(json.dumps({"only_in_xml": only_in_xml, "images": fleetview.images_by_name(context), "pydantic": "pydantic" in sys.modules}))
"""


def test_the_console_lists_the_working_folder_without_the_spec_model(tmp_path):
    """The console's home list (the VMs only in XML/, each VM's image) reads XML/ at start: through
    DomainDocument.settings(), so its first filled frame does not wait for pydantic."""
    assert main(["--workdir", str(tmp_path), "xml", "new", "--hypervisor", "test", "--name", "lab1", "--vcpu", "2",
                 "--memory", "96", "--image", str(tmp_path / "Images" / "lab1.img")]) == 0
    done = subprocess.run([sys.executable, "-c", _LISTING_PROBE, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["only_in_xml"] == [["lab1", "undefined", 2, 96]]
    assert seen["images"] == {"lab1": "Images/lab1.img"}
    assert seen["pydantic"] is False
