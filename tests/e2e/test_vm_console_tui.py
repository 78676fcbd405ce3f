"""The VM's console inside the full-screen console, in tmux against real QEMU guests on the real
libvirtd: open it by key on the table, type into the guest's shell, read the answer on the
screen; redeploy the VM and find the pane reattached by itself; two consoles open at once."""

from __future__ import annotations

import os
import signal
import subprocess
import threading

import pytest

from tests.e2e.test_vm_console import RFCONSOLE, lines_equal, run
from tests.e2e.tmux import Terminal
from tests.integration.conftest import QEMU_URI, qemu_spec, save_spec

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.usefixtures("clean_libvirt")]


def echo_until(terminal: Terminal, product: str, expected: str, timeout: float = 60.0) -> None:
    """Type ``echo RF$((product))`` until a line reading ``expected`` shows (the guest may still boot)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run(terminal, f"echo RF$(({product}))")
        try:
            terminal.wait_for(lambda s: lines_equal(s, expected), f"{expected} on the screen", timeout=4)
            return
        except AssertionError:
            continue
    raise AssertionError(f"the guest never answered {expected}; the screen:\n{terminal.screen()}")


def filter_to(terminal: Terminal, name: str, state: str) -> None:
    """Filter the table down to ``name`` (in ``state``) and give the table the focus back."""
    terminal.send("/")
    # Textual moves the focus on a message after the key: the box showing is not yet the box having
    # the focus. The status line says "filtering" once it has it: letters are the filter's then, not keys.
    terminal.wait_for_text("filtering (enter: to the table)")
    terminal.send("-l", name)
    terminal.send("Enter")
    # "filter 'NAME': 1 shown" (no longer "filtering 'NAME' …") only once the table has the focus back:
    # the next key is the table's, not a letter of the filter
    terminal.wait_for(
        lambda s: f"filter '{name}': 1 shown" in s and any(f" {name} " in line and f" {state} " in line for line in s.splitlines()),
        f"{name} alone and {state} in the table, which has the focus",
    )


def open_console_of(terminal: Terminal, name: str) -> None:
    filter_to(terminal, name, "running")
    terminal.send("v")
    terminal.wait_for_text(f"connected to the console of {name}")


def test_console_pane_types_reattaches_after_redeploy_and_two_are_open(workdir, guest, open_fleet):
    for name in ("rfit-one", "rfit-two"):
        save_spec(workdir, qemu_spec(name, guest))
    fleet = open_fleet(workdir, QEMU_URI)
    for name in ("rfit-one", "rfit-two"):
        fleet.up(name)
    terminal = Terminal([str(RFCONSOLE), "--connect", QEMU_URI], cwd=workdir.root, width=120, height=40)
    try:
        terminal.wait_for_text("rfit-two")
        open_console_of(terminal, "rfit-one")
        echo_until(terminal, "6*7", "RF42")

        # Redeploy (from another client: this test's fleet): the pane says so and reattaches by itself.
        redeploy = threading.Thread(target=fleet.redeploy, args=("rfit-one",))
        redeploy.start()
        terminal.wait_for_text("reattached to the console of rfit-one", timeout=60)
        redeploy.join(timeout=60)
        echo_until(terminal, "6*8", "RF48")

        # ctrl+] back to the table; the second VM's console; F3 between the two, both alive.
        terminal.send("C-]")
        terminal.wait_for(lambda s: "Console" in s and "rfit-one" in s and "RF48" not in s, "the table")
        terminal.send("Escape")  # clear the filter (waited for: an escape right before a key reads as alt+key)
        terminal.wait_for(lambda s: "filter 'rfit-one'" not in s, "the filter cleared")
        open_console_of(terminal, "rfit-two")
        echo_until(terminal, "6*9", "RF54")
        terminal.send("F3")
        terminal.wait_for(lambda s: lines_equal(s, "RF48"), "the first console, as it was")
        echo_until(terminal, "7*7", "RF49")
        terminal.send("F3")
        terminal.wait_for(lambda s: lines_equal(s, "RF54"), "the second console again")

        # F10 closes it for good: the console is free for another client (no --force needed).
        terminal.send("F10")
        terminal.wait_for_text("closed the console of rfit-two")
        other = subprocess.run(
            [str(RFCONSOLE), "--connect", QEMU_URI, "console", "rfit-two"], input=b"", capture_output=True, timeout=60
        )
        assert other.returncode == 0 and b"connected to the console of rfit-two" in other.stderr
        assert "Traceback" not in terminal.screen()
    finally:
        terminal.close()


# The displaced `rfconsole console` client sometimes never learns it was taken over on a freshly set
# up machine: within 30 s twice in session 6's fresh-machine runs, within 90 s once in two of
# session 7's (never on a machine that ran the suite before). The cause is not found (libvirt not
# telling the old client of the forced open, or the client missing it): one rerun, so a real
# regression (it never learns) still fails. tests/e2e/test_vm_console.py's own take-over is not affected.
@pytest.mark.flaky(reruns=1)
def test_console_pane_bad_cases_say_why(workdir, guest, open_fleet):
    """Not running: a notification. Held by another client: asks, and takes it over on y. The host
    going away mid-session: the pane says so, waits, and reattaches when libvirtd is back."""
    from tests.integration.conftest import restart_libvirtd

    for name in ("rfit-off", "rfit-held"):
        save_spec(workdir, qemu_spec(name, guest))
    fleet = open_fleet(workdir, QEMU_URI)
    fleet.define("rfit-off")
    fleet.up("rfit-held")
    holder = subprocess.Popen(
        [str(RFCONSOLE), "--connect", QEMU_URI, "console", "rfit-held"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=workdir.root,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},  # SIGABRT dumps its threads: what it waits on if it never learns
    )
    terminal = Terminal([str(RFCONSOLE), "--connect", QEMU_URI], cwd=workdir.root, width=160, height=45)
    try:
        assert b"connected to the console of rfit-held" in holder.stderr.readline()
        terminal.wait_for_text("rfit-off")
        filter_to(terminal, "rfit-off", "shut off")
        terminal.send("v")
        # the notification (its text wraps in the toast; its title does not), and no console opened
        screen = terminal.wait_for_text("console of rfit-off on local")
        assert "shut off" in screen and "connected to the console" not in screen

        terminal.send("Escape")
        terminal.wait_for(lambda s: "filter 'rfit-off'" not in s, "the filter cleared")
        filter_to(terminal, "rfit-held", "running")
        terminal.send("v")
        terminal.wait_for_text("Take over the console of rfit-held")
        terminal.send("y")
        terminal.wait_for_text("took it over from the client that held it")
        # a displaced client learns it within libvirt's keepalive (5 s x 3) and the settle wait: 90 s is slack on a cold machine
        try:
            code = holder.wait(timeout=90)
        except subprocess.TimeoutExpired:
            holder.send_signal(signal.SIGABRT)
            _, said = holder.communicate(timeout=10)
            raise AssertionError("the displaced client never learnt it was taken over; its threads:\n" + said.decode(errors="replace")) from None
        assert code == 1 and b"another client took it over" in holder.stderr.read()
        echo_until(terminal, "6*7", "RF42")

        restart_libvirtd()
        terminal.wait_for_text("went away", timeout=60)
        terminal.wait_for_text("reattached to the console of rfit-held", timeout=90)
        echo_until(terminal, "6*8", "RF48")
        assert "Traceback" not in terminal.screen()
    finally:
        terminal.close()
        holder.kill()
        holder.wait()


def test_console_pane_reattaches_after_a_snapshot_revert(workdir, guest, open_fleet):
    """Issue 17 item 5: a revert with the pane open, the pane shows the reverted guest's output
    (before: 'PTY device is not yet assigned' or 'held by another client', only F10 then v recovered)."""
    name = "rfit-revert"
    disk = workdir.image(f"{name}.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "16M"], check=True)
    save_spec(workdir, qemu_spec(name, guest, image=disk))
    fleet = open_fleet(workdir, QEMU_URI)
    fleet.up(name)
    terminal = Terminal([str(RFCONSOLE), "--connect", QEMU_URI], cwd=workdir.root, width=120, height=40)
    try:
        terminal.wait_for_text(name)
        open_console_of(terminal, name)
        echo_until(terminal, "6*7", "RF42")
        fleet.snapshot_create(name, "booted")
        fleet.snapshot_revert(name, "booted", force=True)  # from another client, the pane open
        terminal.wait_for_text(f"reattached to the console of {name}", timeout=60)
        echo_until(terminal, "6*8", "RF48", timeout=30)
        screen = terminal.screen()
        assert "held by another client" not in screen and "not yet assigned" not in screen
        assert "Traceback" not in screen
    finally:
        terminal.close()
