"""A real Open vSwitch bridge connecting to a real `rfconsole watch` shows on the event timeline,
as `rfconsole events --follow --json` (another process) prints it: the switch within 1 s, then
the boot decision with the VM's boot latency, and libvirt's lifecycle event with its host; watch and the console on one folder write each lifecycle
event once."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import threading
import time

import pytest

from rfconsole.tui.app import RfconsoleApp
from rfconsole.tui.launch import build_context
from tests.integration.conftest import (
    QEMU_URI,
    RFCONSOLE,
    domain_state,
    qemu_spec,
    run_cli,
    save_spec,
    wait_until,
)
from tests.integration.ondemand.conftest import Watch
from tests.integration.test_host_problems import wait_in_app

pytestmark = pytest.mark.integration


class Follower:
    """`rfconsole events --follow --json`, each line kept with the time it arrived."""

    def __init__(self, root) -> None:
        self.process = subprocess.Popen([str(RFCONSOLE), "--workdir", str(root), "events", "--follow", "--json"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.events: list[tuple[float, dict]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in iter(self.process.stdout.readline, ""):
            self.events.append((time.monotonic(), json.loads(line)))

    def first(self, test) -> tuple[float, dict] | None:
        return next(((arrived, event) for arrived, event in list(self.events) if test(event)), None)

    def stop(self) -> str:
        self.process.terminate()
        _, errors = self.process.communicate(timeout=10)
        return errors


def test_switch_up_and_the_boot_with_its_latency_show_on_the_timeline(watch, bridges, ondemand_workdir):
    follower = Follower(ondemand_workdir.root)
    try:
        wait_until(lambda: follower.first(lambda e: e["kind"] == "watch") is not None, 10, "watch's start on the timeline")
        added = time.monotonic()
        bridges.add(5, watch.target)
        wait_until(lambda: follower.first(lambda e: e["kind"] == "switch" and e["subject"] == "0000000000000005") is not None,
                   5, "switch 5 on the timeline")
        arrived, switch = follower.first(lambda e: e["kind"] == "switch" and e["subject"] == "0000000000000005")
        assert arrived - added <= 1.0, f"switch 5 showed {arrived - added:.2f} s after its bridge was set to connect"
        assert switch["what"].startswith("up from 127.0.0.1:") and switch["data"]["vms"] == ["rfvmA"]

        wait_until(lambda: domain_state(QEMU_URI, "rfvmA") == "running", 60, "rfvmA to run")
        running_seen = time.monotonic()
        wait_until(lambda: follower.first(lambda e: e["kind"] == "boot") is not None, 5, "rfvmA's boot on the timeline")
        arrived, boot = follower.first(lambda e: e["kind"] == "boot")
        assert arrived - running_seen <= 1.0
        assert boot["subject"] == "rfvmA" and boot["data"]["outcome"] == "defined and started"
        assert 0 < boot["data"]["start_issued_s"] <= boot["data"]["latency_s"] < 60
        assert boot["host"] is not None and f"running {boot['data']['latency_s']:.3f} s after the switch came up" in boot["what"]
        wait_until(lambda: follower.first(lambda e: e["kind"] == "domain" and e["subject"] == "rfvmA"
                                          and e["what"] == "started (booted)") is not None, 5, "libvirt's started event of rfvmA")
        assert follower.first(lambda e: e["kind"] == "domain" and e["subject"] == "rfvmA")[1]["host"] == boot["host"]
    finally:
        errors = follower.stop()
    assert "Traceback" not in errors and "skipped" not in errors, errors


async def test_watch_and_the_console_on_one_folder_write_each_lifecycle_event_once(workdir, guest, clean_libvirt) -> None:
    """Both listen to the real libvirtd: watch holds the host's recorder role (it saw the first
    event), so the console records none of its events; once watch stops, the console takes over."""
    root = str(workdir.root)
    save_spec(workdir, qemu_spec("rfit-both", guest))
    (workdir.root / "rftest2config.csv").write_text("vm_id,vm_port,ct_id,dp_id,dp_port\n")
    watch = Watch(workdir)
    context = None
    try:
        assert run_cli("--workdir", root, "--connect", QEMU_URI, "define", "rfit-both").returncode == 0  # watch's first event
        wait_until(lambda: "defined (added)" in (workdir.root / "events.jsonl").read_text(), 10, "watch to record the define")
        context = build_context(argparse.Namespace(workdir=workdir.root, demo=False, connect=QEMU_URI))
        app = RfconsoleApp(context, poll_seconds=1)
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_in_app(pilot, lambda: context.fleet.host().connected, "the console's first poll to connect", timeout=30)
            for command in ("start", "destroy"):
                done = await asyncio.to_thread(run_cli, "--workdir", root, "--connect", QEMU_URI, command, "rfit-both")
                assert done.returncode == 0, done.stderr
            await asyncio.to_thread(wait_until, lambda: "stopped (destroyed)" in (workdir.root / "events.jsonl").read_text(), 10,
                                    "the destroy's event")
            await asyncio.sleep(0.5)  # time for a second writer, were there one
            assert watch.stop() == 0, watch.text
            undefined = await asyncio.to_thread(run_cli, "--workdir", root, "--connect", QEMU_URI, "undefine", "rfit-both")
            assert undefined.returncode == 0, undefined.stderr
            await asyncio.to_thread(wait_until, lambda: "undefined (removed)" in (workdir.root / "events.jsonl").read_text(), 10,
                                    "the undefine's event, recorded by the console now")
    finally:
        watch.stop()
        if context is not None:
            context.fleet.close()
    lines = [json.loads(line) for line in (workdir.root / "events.jsonl").read_text().splitlines()]
    recorded = [(e["what"], e["pid"]) for e in lines if e["kind"] == "domain" and e["subject"] == "rfit-both"]
    by_watch = [what for what, pid in recorded if pid == watch.process.pid]
    by_console = [what for what, pid in recorded if pid == os.getpid()]
    assert len(recorded) == len(by_watch) + len(by_console)
    assert {"defined (added)", "started (booted)", "stopped (destroyed)"} <= set(by_watch), recorded
    assert by_console == ["undefined (removed)"], recorded  # nothing of watch's time written twice
    assert len({what for what, _pid in recorded}) == len(recorded)
