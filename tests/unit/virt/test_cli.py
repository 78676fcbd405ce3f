"""The lifecycle commands and status, run in-process through rfconsole.cli.main and once as the
installed console script."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rfconsole.cli import main
from rfconsole.virt.demo import DEMO_BANNER
from tests.unit.virt.conftest import FOREIGN_NODE, RFTEST2, save_preset

RFCONSOLE = Path(sys.executable).with_name("rfconsole")


def run(capsys, workdir, *argv: str) -> tuple[int, str, str]:
    code = main(["--workdir", str(workdir.root), *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_status_json_lists_the_demo_vms(capsys, workdir):
    code, out, err = run(capsys, workdir, "--demo", "status", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [row["name"] for row in rows] == list(RFTEST2)
    assert all(row["demo"] and row["host"] == "demo" and row["state"] == "shut off" for row in rows)
    assert DEMO_BANNER in err


def test_no_configuration_means_the_demo(capsys, workdir):
    code, out, err = run(capsys, workdir, "status")
    assert code == 0 and DEMO_BANNER in err
    assert out.splitlines()[0].split() == ["NAME", "HOST", "HYPERVISOR", "STATE", "VCPUS", "MEMORY", "CPU%", "OWNED"]
    assert [line.split()[0] for line in out.splitlines()[1:]] == list(RFTEST2)


def test_up_reports_each_vm_and_a_summary(capsys, workdir):
    code, out, err = run(capsys, workdir, "--demo", "up")
    assert code == 0
    assert "up: rfvmA rfvmB rfvmC rfvmD" in err
    assert "  rfvmC: start …" in err and "  rfvmC: wait …" in err  # each VM's step as it begins
    assert sum(1 for line in out.splitlines() if line.startswith("[") and " ok " in line) == 4
    assert "up: 4 of 4 ok" in out


def test_progress_lines_from_parallel_vms_never_share_a_line(workdir):
    """The four VMs' steps are printed from four threads at once (before the fix, 7 runs in 10
    had two steps on one line)."""
    for _ in range(6):
        done = subprocess.run([str(RFCONSOLE), "--demo", "up"], cwd=workdir.root, capture_output=True, text=True, timeout=60)
        steps = [line for line in done.stderr.splitlines() if line.startswith("  rfvm")]
        assert done.returncode == 0 and len(steps) == 8 and all(line.count("…") == 1 for line in steps), steps


def test_a_failure_exits_1_with_the_message_and_hint(capsys, workdir):
    code, out, err = run(capsys, workdir, "--demo", "redeploy", "rfvmA")
    assert code == 1
    assert "FAILED rfvmA: no VM named 'rfvmA'" in out and "hint: create one" in out
    assert "redeploy: 0 of 1 ok, 1 failed" in out


def test_redeploy_from_xml(capsys, workdir, store):
    save_preset(store, "rfvmB")
    code, out, _ = run(capsys, workdir, "--demo", "redeploy", "rfvmB")
    assert code == 0 and "rfvmB: running on host demo" in out


def test_ownership_refusal_and_force(capsys, workdir, tmp_path):
    node = tmp_path / "foreign.xml"
    node.write_text(FOREIGN_NODE)
    uri = f"test://{node}"
    code, out, _ = run(capsys, workdir, "--connect", uri, "destroy", "test")
    assert code == 1 and f"refusing to destroy test on host {uri}" in out and "--force" in out
    # each in-process run opens its own copy of the node XML, so force starts from "running" again
    code, out, _ = run(capsys, workdir, "--connect", uri, "destroy", "--force", "test")
    assert code == 0 and "destroy: 1 of 1 ok" in out


def test_power_cycle_refuses_an_unowned_domain_without_force_then_resets_it(capsys, workdir, tmp_path):
    node = tmp_path / "foreign.xml"
    node.write_text(FOREIGN_NODE)
    uri = f"test://{node}"
    code, out, err = run(capsys, workdir, "--connect", uri, "power-cycle", "test")
    assert code == 1 and f"refusing to power-cycle test on host {uri}" in out and "--force" in out
    assert "power-cycle: test …" in err and "power-cycle: 0 of 1 ok, 1 failed" in out
    code, out, _ = run(capsys, workdir, "--connect", uri, "power-cycle", "--force", "test")
    assert code == 0 and f"ok     test: power-cycled (hard reset) on host {uri}" in out and "power-cycle: 1 of 1 ok" in out


def test_power_cycle_of_a_shut_off_vm_fails_saying_so(capsys, workdir):
    code, out, _ = run(capsys, workdir, "--demo", "power-cycle", "rfvmA", "rfvmB")
    assert code == 1
    assert "FAILED rfvmA: rfvmA on host demo is not running (it is shut off)" in out
    assert "power-cycle: 0 of 2 ok, 2 failed" in out


def test_unreachable_host_exits_1_with_hint(capsys, workdir):
    code, out, err = run(capsys, workdir, "--connect", "qemu+tcp://127.0.0.1:1/system", "status", "--json")
    assert code == 1 and json.loads(out) == []
    assert "cannot connect to host qemu+tcp://127.0.0.1:1/system" in err and "hint: is libvirtd running on 127.0.0.1?" in err


def test_status_lists_the_vms_of_xml_on_an_unreachable_host_as_unknown(capsys, workdir):
    """A host that is down is no empty lab: its VMs of XML/ are listed, their state unknown."""
    assert main(["--workdir", str(workdir.root), "xml", "new", "--preset", "rfvmA", "--hypervisor", "qemu"]) == 0
    capsys.readouterr()
    code, out, err = run(capsys, workdir, "--connect", "qemu+tcp://127.0.0.1:1/system", "status", "--json")
    assert code == 1 and "cannot connect to host" in err
    assert [(row["name"], row["state"]) for row in json.loads(out)] == [("rfvmA", "unknown")]
    code, out, _ = run(capsys, workdir, "--connect", "qemu+tcp://127.0.0.1:1/system", "status")
    assert code == 1 and out.splitlines()[1].split()[:4] == ["rfvmA", "qemu+tcp://127.0.0.1:1/system", "qemu", "unknown"]


def test_status_lists_a_vm_only_in_xml_as_undefined(capsys, workdir):
    assert main(["--workdir", str(workdir.root), "xml", "new", "--preset", "rfvmE", "--hypervisor", "test"]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, workdir, "--demo", "status", "--json")
    assert code == 0
    assert [(row["name"], row["state"]) for row in json.loads(out)] == [*((name, "shut off") for name in RFTEST2), ("rfvmE", "undefined")]


def test_the_seeds_kvm_uri_gets_the_right_one_in_the_hint(capsys, workdir):
    code, _, err = run(capsys, workdir, "--connect", "kvm:///", "status")
    assert code == 1 and "use --connect qemu:///system" in err


def test_bad_config_is_an_error_naming_the_key(capsys, workdir):
    workdir.config_path.write_text('[hosts]\nlocal = "nonsense"\n')
    code, _, err = run(capsys, workdir, "status")
    assert code == 1 and "hosts.local = 'nonsense'" in err


def test_usage_errors_exit_2(capsys, workdir):
    with pytest.raises(SystemExit) as exit_:
        main(["--workdir", str(workdir.root), "down", "--timeout", "soon"])
    assert exit_.value.code == 2


def test_console_script_and_watch_until_ctrl_c(workdir):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    once = subprocess.run([str(RFCONSOLE), "--demo", "status", "--json"], cwd=workdir.root, capture_output=True, text=True, timeout=60, env=env)
    assert once.returncode == 0 and [row["name"] for row in json.loads(once.stdout)] == list(RFTEST2)
    assert DEMO_BANNER in once.stderr

    watch = subprocess.Popen([str(RFCONSOLE), "--demo", "status", "--watch"], cwd=workdir.root, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = watch.stdout.readline()
        assert first.split()[:2] == ["NAME", "HOST"]
        time.sleep(0.2)
        watch.send_signal(signal.SIGINT)
        assert watch.wait(timeout=10) == 0
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()


@pytest.mark.parametrize("command", [None, "up", "down", "redeploy", "define", "undefine", "start", "shutdown",
                                     "destroy", "suspend", "resume", "reboot", "power-cycle", "status"])
def test_help_of_every_command(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        main(([command] if command else []) + ["--help"])
    assert exit_.value.code == 0
    assert "usage: rfconsole" in capsys.readouterr().out
