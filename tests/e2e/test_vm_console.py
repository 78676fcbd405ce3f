"""`rfconsole console VM` in a real terminal (tmux) against real guests on the real libvirtd:
type into the guest's shell, read the answer on the screen, detach with ctrl+], and find the
shell's terminal settings exactly as they were (`stty -a`), however the session ended."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

from rfconsole.model.spec import DomainSpec, Hypervisor
from tests.e2e.tmux import REPO, Terminal
from tests.integration.conftest import (
    LXC_URI,
    QEMU_URI,
    qemu_spec,
    restart_libvirtd,
    save_spec,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.usefixtures("clean_libvirt")]

RFCONSOLE = REPO / ".venv" / "bin" / "rfconsole"


def shell(folder: Path) -> Terminal:
    """A plain bash in tmux, in ``folder``."""
    terminal = Terminal(["bash", "--norc", "--noprofile"], cwd=folder, width=220, height=40)  # wide: messages on one line
    terminal.send("PS1='host$ '", "Enter")
    terminal.wait_for_text("host$")
    return terminal


def run(terminal: Terminal, command: str) -> None:
    terminal.send("-l", command)
    terminal.send("Enter")


def console_command(uri: str, name: str, *more: str) -> str:
    return shlex.join([str(RFCONSOLE), "--connect", uri, "console", name, *more])


def lines_equal(screen: str, text: str) -> bool:
    return any(line.strip() == text for line in screen.splitlines())


def type_echo_until_answered(terminal: Terminal, timeout: float = 60.0) -> None:
    """echo RF$((6*7)) into the guest until a line reading RF42 shows (the guest may still boot)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run(terminal, "echo RF$((6*7))")
        try:
            terminal.wait_for(lambda s: lines_equal(s, "RF42"), "RF42 on the screen", timeout=4)
            return
        except AssertionError:
            continue
    raise AssertionError(f"the guest never answered; the screen:\n{terminal.screen()}")


def stty_saved(terminal: Terminal, path: Path) -> str:
    """``stty -a`` of the shell's terminal, through a file (the marker is not in the command's text)."""
    run(terminal, f"stty -a > {path} && echo SAVED-$((40+2))-{path.name}")
    terminal.wait_for_text(f"SAVED-42-{path.name}")
    return path.read_text()


@pytest.fixture
def running_qemu(workdir, guest, open_fleet):
    save_spec(workdir, qemu_spec("rfit-tty", guest))
    fleet = open_fleet(workdir, QEMU_URI)
    fleet.up("rfit-tty")
    return fleet


def test_console_command_types_into_the_guest_and_detaches_cleanly(running_qemu, workdir, tmp_path):
    terminal = shell(workdir.root)
    try:
        before = stty_saved(terminal, tmp_path / "before")
        run(terminal, console_command(QEMU_URI, "rfit-tty"))
        terminal.wait_for_text("escape character is ctrl+]")
        type_echo_until_answered(terminal)
        terminal.send("C-]")
        screen = terminal.wait_for_text("detached from the console of rfit-tty")
        assert "Traceback" not in screen
        assert stty_saved(terminal, tmp_path / "after") == before
        run(terminal, "echo exit=$?")  # the exit status of stty; the console's is checked below
        run(terminal, console_command(QEMU_URI, "rfit-tty") + " </dev/null; echo console-exit=$?")
        terminal.wait_for_text("console-exit=0")  # end of input detaches too
    finally:
        terminal.close()


def test_lxc_container_console_works_the_same_way(workdir, guest, open_fleet, tmp_path):
    save_spec(workdir, DomainSpec(hypervisor=Hypervisor.LXC, name="rfit-tty-lxc", memory=64, image=guest.lxc_rootfs, init="/init"))
    open_fleet(workdir, LXC_URI).up("rfit-tty-lxc")
    terminal = shell(workdir.root)
    try:
        before = stty_saved(terminal, tmp_path / "before")
        run(terminal, console_command(LXC_URI, "rfit-tty-lxc"))
        terminal.wait_for_text("escape character is ctrl+]")
        type_echo_until_answered(terminal)
        terminal.send("C-]")
        terminal.wait_for_text("detached from the console of rfit-tty-lxc")
        assert stty_saved(terminal, tmp_path / "after") == before
    finally:
        terminal.close()


def test_bad_cases_each_say_why_without_a_traceback(running_qemu, workdir, guest, tmp_path):
    holder = shell(workdir.root)
    other = shell(workdir.root)
    try:
        # Not running.
        save_spec(workdir, qemu_spec("rfit-tty-off", guest))
        running_qemu.define("rfit-tty-off")
        run(other, console_command(QEMU_URI, "rfit-tty-off") + "; echo exit=$?")
        screen = other.wait_for_text("exit=1")
        assert "rfit-tty-off on host" in screen and "is shut off: its console exists only while it runs" in screen

        # Held by another client: refused, the holder undisturbed; then --force takes it over.
        before = stty_saved(other, tmp_path / "before")
        run(holder, console_command(QEMU_URI, "rfit-tty"))
        holder.wait_for_text("escape character is ctrl+]")
        run(other, console_command(QEMU_URI, "rfit-tty") + "; echo exit=$?")
        screen = other.wait_for(lambda s: s.count("exit=1") == 2, "the refusal")
        assert "is held by another client" in screen and "--force" in screen
        type_echo_until_answered(holder)
        run(other, console_command(QEMU_URI, "rfit-tty", "--force") + "; echo forced-exit=$?")
        other.wait_for_text("took it over")
        screen = holder.wait_for_text("another client took it over")
        type_echo_until_answered(other)
        other.send("C-]")
        other.wait_for_text("forced-exit=0")
        assert stty_saved(other, tmp_path / "after-force") == before

        # The host disappearing mid-session.
        attached_before = other.screen().count("escape character is ctrl+]")
        run(other, console_command(QEMU_URI, "rfit-tty") + "; echo lost-exit=$?")
        other.wait_for(lambda s: s.count("escape character is ctrl+]") > attached_before, "the third session attached")
        restart_libvirtd()
        screen = other.wait_for_text("lost-exit=1", timeout=60)
        assert "host local (qemu:///system) went away" in screen
        for terminal in (holder, other):
            assert "Traceback" not in terminal.screen()
        assert stty_saved(other, tmp_path / "after-lost") == before
    finally:
        holder.close()
        other.close()


def test_sigterm_restores_the_terminal(running_qemu, workdir, tmp_path):
    terminal = shell(workdir.root)
    try:
        before = stty_saved(terminal, tmp_path / "before")
        run(terminal, console_command(QEMU_URI, "rfit-tty") + "; echo term-exit=$?")
        terminal.wait_for_text("escape character is ctrl+]")
        type_echo_until_answered(terminal)
        found = subprocess.run(["pgrep", "-f", "rfconsole --connect qemu:///system console rfit-tty"], capture_output=True, text=True)
        pids = found.stdout.split()
        assert len(pids) == 1, pids
        os.kill(int(pids[0]), signal.SIGTERM)
        screen = terminal.wait_for_text("term-exit=143")
        assert "terminated by signal 15" in screen and "Traceback" not in screen
        assert stty_saved(terminal, tmp_path / "after") == before
    finally:
        terminal.close()
