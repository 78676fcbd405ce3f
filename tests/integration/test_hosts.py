"""Two real libvirt daemons on this machine (scripts/daemons.sh): the first reached locally, the
second over qemu+ssh with its own host_uuid, as two hosts of a lab."""

from __future__ import annotations

import argparse
import re
import subprocess
import time

import pytest

from rfconsole.store import Workdir
from rfconsole.tui.app import RfconsoleApp
from rfconsole.tui.launch import build_context
from tests.integration.conftest import (
    QEMU_URI,
    READY_MARKER,
    TCP_URI,
    SerialConsole,
    domain_state,
    hosts_line,
    kill_host2,
    qemu_spec,
    row_state,
    run_cli,
    save_spec,
    start_daemons,
    virsh,
)
from tests.integration.test_host_problems import wait_in_app

pytestmark = pytest.mark.integration


def host_uuid(uri: str) -> str:
    """The host UUID a daemon reports in its capabilities (what migration compares)."""
    found = re.search(r"<host>\s*<uuid>([0-9a-f-]{36})</uuid>", virsh(uri, "capabilities"))
    assert found, f"no host UUID in {uri}'s capabilities"
    return found.group(1)


def test_the_second_daemon_answers_over_ssh_with_its_own_host_uuid(host2: str) -> None:
    assert host2.startswith("qemu+ssh://")
    first, second = host_uuid(QEMU_URI), host_uuid(host2)
    assert first == host_uuid(TCP_URI)  # the same daemon by another URI
    assert first != second


def test_the_second_daemon_keeps_its_own_domains(clean_host2: str) -> None:
    """Its config dirs are its own: a domain defined there is unknown to the first daemon."""
    xml = "<domain type='qemu'><name>rfit-host2-only</name><memory unit='MiB'>32</memory><os><type>hvm</type></os></domain>"
    subprocess.run(["virsh", "-c", clean_host2, "define", "/dev/stdin"], input=xml, text=True, check=True, capture_output=True)
    assert "rfit-host2-only" in virsh(clean_host2, "list", "--all", "--name")
    assert "rfit-host2-only" not in virsh(QEMU_URI, "list", "--all", "--name")


# ---------------------------------------------------------------------------- a host that goes and comes back
def two_hosts(workdir: Workdir, host2: str, placement: dict[str, str]) -> None:
    """rfconsole.toml with the first daemon as `local` and the second as `host2`."""
    lines = ['default_host = "local"', "[hosts]", f'local = "{QEMU_URI}"', f'host2 = "{host2}"', "[placement]"]
    lines += [f'{vm} = "{host}"' for vm, host in placement.items()]
    workdir.config_path.write_text("\n".join(lines) + "\n")


async def test_the_console_follows_the_second_host_going_down_and_back(workdir, guest, clean_host2: str) -> None:
    """host2's libvirtd killed: within 2 s the hosts' line says it is down (with its URI) and its VM
    is unknown, not shut off; started again: connected and the VM running, without a restart."""
    two_hosts(workdir, clean_host2, {"rfit-away": "host2"})
    save_spec(workdir, qemu_spec("rfit-away", guest))
    virsh(clean_host2, "create", str(workdir.xml_dir / "rfit-away.xml"))
    context = build_context(argparse.Namespace(workdir=workdir.root, demo=False, connect=None))
    app = RfconsoleApp(context, poll_seconds=1)

    def line() -> str:
        return hosts_line(app)

    def state() -> str | None:
        return row_state(app, "rfit-away")

    try:
        async with app.run_test(size=(200, 30)) as pilot:
            await wait_in_app(pilot, lambda: state() == "running" and line().count("connected") == 2, "both hosts connected", timeout=20)
            kill_host2()
            killed = time.monotonic()
            await wait_in_app(pilot, lambda: "down since" in line() and state() == "unknown", "host2 down, its VM unknown", timeout=10)
            assert time.monotonic() - killed <= 2.0, f"host2 was marked down {time.monotonic() - killed:.1f} s after its death"
            assert "127.0.0.1:2222" in line()
            start_daemons()
            await wait_in_app(pilot, lambda: line().count("connected") == 2 and state() == "running", "host2 back, its VM running", timeout=20)
    finally:
        context.fleet.close()
        start_daemons()


def test_status_says_each_hosts_state_with_its_uri(workdir, clean_host2: str) -> None:
    two_hosts(workdir, clean_host2, {})
    done = run_cli("--workdir", str(workdir.root), "status")
    assert done.returncode == 0, done.stderr
    assert f"host local: connected ({QEMU_URI})" in done.stderr
    assert f"host host2: connected ({clean_host2})" in done.stderr
    kill_host2()
    try:
        done = run_cli("--workdir", str(workdir.root), "status")
    finally:
        start_daemons()
    assert done.returncode == 1
    assert f"host local: connected ({QEMU_URI})" in done.stderr
    assert re.search(r"host host2: down since \d\d:\d\d:\d\d \(" + re.escape(clean_host2) + r"\)", done.stderr), done.stderr


# ---------------------------------------------------------------------------- migration
def test_a_running_guest_migrates_live_to_the_second_host_and_its_console_still_answers(workdir, guest, clean_host2: str) -> None:
    two_hosts(workdir, clean_host2, {})
    save_spec(workdir, qemu_spec("rfit-mover", guest))
    assert run_cli("--workdir", str(workdir.root), "up", "rfit-mover").returncode == 0
    with SerialConsole(QEMU_URI, "rfit-mover") as console:
        console.read_until(READY_MARKER)
    refused = run_cli("--workdir", str(workdir.root), "migrate", "rfit-mover", "host2", "--offline")
    assert refused.returncode != 0 and "refusing to migrate rfit-mover offline: it is running" in refused.stderr
    done = run_cli("--workdir", str(workdir.root), "migrate", "rfit-mover", "host2", "--live")
    assert done.returncode == 0, done.stderr
    assert "rfit-mover migrated live from host local to host host2" in done.stdout
    assert re.search(r"downtime \d+ ms", done.stdout), done.stdout
    assert "storage shared: both hosts are on this machine" in done.stderr
    assert domain_state(clean_host2, "rfit-mover") == "running"
    assert virsh(clean_host2, "dominfo", "rfit-mover").count("Persistent:     yes") == 1
    assert domain_state(QEMU_URI, "rfit-mover") is None  # undefined on the source after the success
    with SerialConsole(clean_host2, "rfit-mover") as console:
        console.send("echo $((6*7))-after-migration")
        console.read_until("42-after-migration", timeout=20)


def test_migrate_refuses_what_it_cannot_move_and_touches_nothing(workdir, guest, clean_host2: str) -> None:
    two_hosts(workdir, clean_host2, {})
    save_spec(workdir, qemu_spec("rfit-stay", guest, memory=32))
    assert run_cli("--workdir", str(workdir.root), "define", "rfit-stay").returncode == 0
    refused = run_cli("--workdir", str(workdir.root), "migrate", "rfit-stay", "host2", "--live")
    assert refused.returncode != 0 and "refusing to migrate rfit-stay live: it is shut off" in refused.stderr
    missing = workdir.images_dir / "gone.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(missing), "1M"], check=True)
    virsh(QEMU_URI, "attach-disk", "rfit-stay", str(missing), "vdb", "--subdriver", "qcow2", "--config")
    missing.unlink()
    refused = run_cli("--workdir", str(workdir.root), "migrate", "rfit-stay", "host2")
    assert refused.returncode != 0 and f"its storage is not there: {missing}" in refused.stderr
    virsh(QEMU_URI, "detach-disk", "rfit-stay", "vdb", "--config")
    subprocess.run(["virsh", "-c", clean_host2, "define", "/dev/stdin"], text=True, check=True, capture_output=True,
                   input="<domain type='qemu'><name>rfit-stay</name><memory unit='MiB'>32</memory><os><type>hvm</type></os></domain>")
    refused = run_cli("--workdir", str(workdir.root), "migrate", "rfit-stay", "host2")
    assert refused.returncode != 0 and "host host2" in refused.stderr and "already has a domain named rfit-stay" in refused.stderr
    virsh(clean_host2, "undefine", "rfit-stay")
    refused = run_cli("--workdir", str(workdir.root), "migrate", "rfit-stay", "local")
    assert refused.returncode != 0 and "rfit-stay is already on host local" in refused.stderr
    assert domain_state(QEMU_URI, "rfit-stay") == "shut off" and domain_state(clean_host2, "rfit-stay") is None
    subprocess.run(["virsh", "-c", QEMU_URI, "define", "/dev/stdin"], text=True, check=True, capture_output=True,
                   input="<domain type='qemu'><name>rfit-foreign</name><memory unit='MiB'>32</memory><os><type>hvm</type></os></domain>")
    refused = run_cli("--workdir", str(workdir.root), "migrate", "rfit-foreign", "host2")
    assert refused.returncode != 0 and "refusing to migrate rfit-foreign on host local" in refused.stderr
    assert "does not carry rfconsole's ownership mark" in refused.stderr and domain_state(clean_host2, "rfit-foreign") is None
    moved = run_cli("--workdir", str(workdir.root), "migrate", "rfit-stay", "host2")
    assert moved.returncode == 0, moved.stderr
    assert "rfit-stay migrated offline from host local to host host2" in moved.stdout
    assert domain_state(clean_host2, "rfit-stay") == "shut off" and domain_state(QEMU_URI, "rfit-stay") is None


# ---------------------------------------------------------------------------- placement
def test_up_brings_rftest2_up_two_per_host_as_placed(rftest2_workdir, clean_host2: str) -> None:
    placement = {"rfvmA": "local", "rfvmB": "local", "rfvmC": "host2", "rfvmD": "host2"}
    two_hosts(rftest2_workdir, clean_host2, placement)
    done = run_cli("--workdir", str(rftest2_workdir.root), "up", timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    for name, host in placement.items():
        here, there = (QEMU_URI, clean_host2) if host == "local" else (clean_host2, QEMU_URI)
        assert domain_state(here, name) == "running", f"{name} is not running on {host}"
        assert domain_state(there, name) is None, f"{name} is defined on the other host too"


async def test_the_console_migrates_the_selected_vm_with_M(workdir, guest, clean_host2: str) -> None:
    two_hosts(workdir, clean_host2, {})
    save_spec(workdir, qemu_spec("rfit-keyed", guest))
    assert run_cli("--workdir", str(workdir.root), "up", "rfit-keyed").returncode == 0
    context = build_context(argparse.Namespace(workdir=workdir.root, demo=False, connect=None))
    app = RfconsoleApp(context, poll_seconds=1)

    def row() -> tuple[str, str] | None:
        table = app.screen.query_one("DomainTable")
        rows = [table.get_row_at(index) for index in range(table.row_count)]
        return next(((str(cells[2]), str(cells[4])) for cells in rows if str(cells[1]) == "rfit-keyed"), None)

    try:
        async with app.run_test(size=(200, 40)) as pilot:
            await wait_in_app(pilot, lambda: row() == ("local", "running"), "rfit-keyed running on local", timeout=20)
            await pilot.press("M")
            await wait_in_app(pilot, lambda: type(app.screen).__name__ == "MigrateDialog", "the migrate dialog")
            assert [str(button.label) for button in app.screen.query("Button")] == ["host2", "Cancel (escape)"]
            await pilot.click("#host-0")
            # the row moves once the target runs it; the migration is over once the source has undefined it
            await wait_in_app(pilot, lambda: row() == ("host2", "running") and domain_state(QEMU_URI, "rfit-keyed") is None,
                              "rfit-keyed running on host2 only", timeout=30)
    finally:
        context.fleet.close()
    assert domain_state(clean_host2, "rfit-keyed") == "running" and domain_state(QEMU_URI, "rfit-keyed") is None
