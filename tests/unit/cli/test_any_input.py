"""No traceback for any command line: generated argument lists for every command (read from
the parser itself), run through the CLI's main in-process on the demo driver, in a working
folder holding valid, broken and hostile files. A traceback, an exception escaping main or an
exit code other than 0, 1 or 2 is a failure."""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rfconsole.cli import every_command, main
from rfconsole.model import DomainSpec
from rfconsole.model.domainxml import DomainDocument

# Commands that serve until interrupted, and options that make a command serve until interrupted.
SERVING = {("watch",), ("top",), ("serve",)}  # top without --once redraws until interrupted
SERVING_OPTIONS = {"--watch", "--follow"}  # events --follow prints until interrupted


COMMANDS = {words: parser for words, parser in every_command().items() if words not in SERVING}


def options_of(parser: argparse.ArgumentParser) -> list[tuple[str, bool]]:
    """(option string, takes a value) of every optional argument but help and the serving ones."""
    options = []
    for action in parser._actions:
        if not action.option_strings or isinstance(action, argparse._HelpAction):
            continue
        if set(action.option_strings) & SERVING_OPTIONS:
            continue
        options.append((action.option_strings[-1], action.nargs != 0))
    return options


def positional_count(parser: argparse.ArgumentParser) -> int:
    return sum(1 for action in parser._actions if not action.option_strings)


hostile_text = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from(["\x00", "\x01", "\x1b", "\x7f", "\x85", "\ufffe", "\udcff", "/", ":", ",", "="]),
    max_size=40,
).filter(lambda text: "\x00" not in text)  # argv cannot carry NUL
long_name = st.integers(250, 300).map(lambda size: "x" * size)
values = st.one_of(
    hostile_text,
    long_name,
    long_name.map(lambda name: f"/tmp/{name}/h1.img"),
    st.sampled_from([
        "rfvmA", "rfvmB", "good", "broken", "fifo", "big", "link", "XML/good.xml", "XML/fifo.xml", "XML/broken.xml",
        "XML/big.xml", "fifo.xml", "base.img", "qemu", "lxc", "kvm", "test", "xen", "-", "0", "1", "-1", "99999999999999999999",
        "1e400", "nan", "inf", "/", ".", "..", "out.xml", "XML/new.xml", "rftest2.csv", "pipe", "/k", "/srv/h1.img",
        "rfvmE", "rfvmF", "link.csv", "0x9", "bridge=dp0,ovs,target=vm1.1,mac=02:01:01:01:01:01", "network=\x1b", "bridge=" + "b" * 300, "memory=64",
        "vcpu=2", "image=\x01", "image=/a\udcffb", "name=x", "id=7", "kernel=" + "/k" * 200, "cmdline=\x07",
    ]),
)


@st.composite
def command_lines(draw) -> list[str]:
    words = draw(st.sampled_from(sorted(COMMANDS)))
    parser = COMMANDS[words]
    argv = list(words)
    options = options_of(parser)
    for _ in range(draw(st.integers(0, 5))):
        if not options:
            break
        option, takes_value = draw(st.sampled_from(options))
        argv.append(option)
        if takes_value:
            argv.append(draw(values))
    argv.extend(draw(st.lists(values, min_size=0, max_size=positional_count(parser) + 2)))
    return argv


def working_folder(root: Path) -> Path:
    """A folder with a valid VM, a broken file, a FIFO, a link, an oversize file, a CSV and a
    raw image (base.img) outside Images/."""
    xml = root / "XML"
    xml.mkdir(parents=True)
    (root / "Images").mkdir()
    (xml / "good.xml").write_bytes(GOOD)
    (xml / "broken.xml").write_text("<domain type='test'><name>broken")
    os.mkfifo(xml / "fifo.xml")
    os.mkfifo(root / "pipe")
    (xml / "link.xml").symlink_to(xml / "good.xml")
    (xml / "big.xml").write_bytes(b"<!--" + b"x" * (1024 * 1024) + b"-->")
    (root / "rftest2.csv").write_text("vm_id,vm_port,ct_id,dp_id,dp_port\n2A0A0A0A0A0,1,0,5,1\n")
    (root / "link.csv").symlink_to(xml / "broken.xml")  # a CSV that is a link to another file
    (root / "base.img").write_bytes(bytes(64 * 1024))
    return root


GOOD = DomainDocument.from_spec(DomainSpec(hypervisor="test", name="good", id=1, kernel_boot={"kernel": "/k"})).to_bytes()


def run_in(folder: Path, argv: list[str]) -> tuple[int, str]:
    """main(argv) with --workdir and --demo, in ``folder``; (exit code, stdout and stderr)."""
    err = io.StringIO()
    out = io.StringIO()
    previous = os.getcwd()
    ondemand_log = logging.getLogger("rfconsole.ondemand")  # `watch` sets up its own logging: undo it
    log_state = (list(ondemand_log.handlers), ondemand_log.level, ondemand_log.propagate)
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(["--workdir", str(folder), "--demo", *argv])
            except SystemExit as exit:  # argparse: usage errors and --help
                code = exit.code if isinstance(exit.code, int) else 2
    finally:
        os.chdir(previous)
        ondemand_log.handlers[:], ondemand_log.propagate = log_state[0], log_state[2]
        ondemand_log.setLevel(log_state[1])
    return code, out.getvalue() + err.getvalue()


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(argv=command_lines())
# RouteFlow's CSV of a new VM: a FIFO, a link to a broken XML, a name too long, a folder that is a file
@example(argv=["xml", "new", "--hypervisor", "test", "--preset", "rfvmE", "--routeflow-config", "pipe"])
@example(argv=["xml", "new", "--hypervisor", "test", "--preset", "rfvmE", "--routeflow-config", "link.csv"])
@example(argv=["xml", "new", "--hypervisor", "test", "--preset", "rfvmE", "--routeflow-config", "x" * 300])
@example(argv=["xml", "new", "--hypervisor", "test", "--preset", "rfvmF", "--routeflow-config", "base.img/rf.csv", "--datapath-id", "0x9"])
@example(argv=["clone", "good", "rfvmE", "--routeflow-config", "rftest2.csv", "--datapath-id", "\udcff"])
@example(argv=["snapshot", "revert", "rfvmA"])  # no NAME: the current snapshot
def test_no_traceback_for_any_command_line(tmp_path_factory, argv):
    folder = working_folder(tmp_path_factory.mktemp("run") / "work")
    code, err = run_in(folder, argv)
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)


@pytest.mark.parametrize(
    "argv",
    [
        ["xml", "new", "--hypervisor", "qemu", "--name", "a", "--image", "/srv/a\x01b"],
        ["xml", "new", "--hypervisor", "qemu", "--name", "a", "--kernel", "/k\udcff"],
        ["xml", "new", "--hypervisor", "qemu", "--name", "a", "--kernel", "/k", "--cmdline", "a\x1bb"],
        ["xml", "new", "--hypervisor", "lxc", "--name", "a", "--init", "/sbin/\x7finit"],
        ["xml", "new", "--hypervisor", "qemu", "--name", "a", "--kernel", "/k", "--nic", "network=ne\x01t"],
        ["xml", "new", "--hypervisor", "qemu", "--name", "a", "--image", "/srv/" + "x" * 256 + "/h1.img"],
        ["xml", "set", "good", "image=/a\x02"],
        ["xml", "show", "x" * 300],
        ["xml", "validate", "XML/fifo.xml"],
        ["xml", "show", "XML/fifo.xml"],
        ["xml", "set", "XML/fifo.xml", "vcpu=2"],
        ["xml", "new", "--hypervisor", "qemu", "--name", "a", "--kernel", "/k", "-o", "pipe", "--force"],
        ["xml", "set", "good", "vcpu=2", "-o", "pipe", "--force"],
        ["xml", "new", "--hypervisor", "qemu", "--name", "a", "--image", "/srv/a\x01", "--kernel", "~nosuchuser/k"],
        ["xml", "set", "good", "kernel=~nosuchuser/k", "image=/a\x01"],
        ["watch", "--routeflow-config", "pipe", "--listen", "127.0.0.1:0"],
        ["watch", "--routeflow-config", "link.csv", "--listen", "127.0.0.1:0"],
        ["details", "x" * 300, "--json"],
        ["details", "a\udcffb"],
        ["details", "rfvmA", "--host", "\x1b"],
        ["snapshot", "revert", "rfvmA", "s\udcff"],  # libvirt's lookup raised UnicodeEncodeError
    ],
    ids=lambda argv: " ".join(argv)[:60],
)
def test_the_reported_cases_are_one_message_and_exit_1(tmp_path, argv):
    folder = working_folder(tmp_path / "work")
    code, err = run_in(folder, argv)
    assert code == 1 and "Traceback" not in err, err
    problems = [line for line in err.splitlines() if "error: " in line or line.startswith("  - ")]
    assert len(problems) == 1, err
    assert os.path.exists(folder / "pipe") and not (folder / "pipe").is_file()


NEW_OPTIONS = ["--image", "--init", "--kernel", "--initrd", "--cmdline", "--nic", "--arch", "--os-type", "--vcpu", "--memory", "--id", "-o"]


@st.composite
def nearly_valid_command_lines(draw) -> list[str]:
    """A command that would succeed but for one hostile value: reaches deep into the model."""
    if draw(st.booleans()):
        hypervisor = draw(st.sampled_from(["qemu", "lxc", "test"]))
        argv = ["xml", "new", "--hypervisor", hypervisor, "--name", "fresh"]
        option = draw(st.sampled_from(NEW_OPTIONS))
        if option in ("--initrd", "--cmdline"):
            argv += ["--kernel", "/k"]
        value = draw(values)
        if option == "--nic":
            value = draw(st.sampled_from(["bridge", "network", "target", "model", "mac"])) + "=" + value
        return [*argv, option, value]
    key = draw(st.sampled_from(["name", "id", "hypervisor", "arch", "os_type", "vcpu", "memory", "image", "init", "kernel", "initrd", "cmdline"]))
    return ["xml", "set", "good", f"{key}={draw(values)}"]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(argv=nearly_valid_command_lines())
def test_no_traceback_for_one_hostile_value_in_a_valid_command(tmp_path_factory, argv):
    folder = working_folder(tmp_path_factory.mktemp("run") / "work")
    code, err = run_in(folder, argv)
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)


@st.composite
def global_options(draw) -> tuple[list[str], list[str]]:
    """(global options with a hostile --workdir or test:// --connect, a command line)."""
    workdir = draw(st.sampled_from(["{folder}", "{folder}/" + "x" * 300, "{folder}/pipe", "{folder}/XML/good.xml", "\udcff", "{folder}/missing/deeper"]))
    connect = draw(st.sampled_from([None, "test:///default", "test:///\x01", "test:///\udcff", "test:///" + "y" * 300, "qemu:///sys\x07tem", "nonsense"]))
    options = ["--workdir", workdir] + (["--connect", connect] if connect else ["--demo"])
    return options, draw(command_lines())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(given_options=global_options())
# found by CI: Images/ could not be made (the working folder is a file, or its name too long)
@example(given_options=(["--workdir", "{folder}/pipe", "--demo"], ["image", "base", "{folder}/base.img"]))
@example(given_options=(["--workdir", "{folder}", "--connect", "test:///\udcff"], ["status"]))  # libvirt's open raised UnicodeEncodeError
@example(given_options=(["--workdir", "{folder}/" + "x" * 300, "--demo"], ["image", "base", "{folder}/base.img"]))
def test_no_traceback_for_any_working_folder_or_host(tmp_path_factory, given_options):
    options, argv = given_options
    folder = working_folder(tmp_path_factory.mktemp("run") / "work")
    options = [option.replace("{folder}", str(folder)) for option in options]
    argv = [word.replace("{folder}", str(folder)) for word in argv]
    err, out = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([*options, *argv])
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else 2
    finally:
        os.chdir(previous)
    assert code in (0, 1, 2), (options, argv, code, err.getvalue())
    assert "Traceback" not in err.getvalue(), (options, argv, err.getvalue())
