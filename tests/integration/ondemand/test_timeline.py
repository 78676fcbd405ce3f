"""A real Open vSwitch bridge connecting to a real `rfconsole watch` shows on the event timeline,
as `rfconsole events --follow --json` (another process) prints it: the switch within 1 s, then
the boot decision with the VM's boot latency, and libvirt's lifecycle event with its host."""

from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest

from tests.integration.conftest import QEMU_URI, RFCONSOLE, domain_state, wait_until

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
