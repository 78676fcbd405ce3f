"""The console of real guests through rfconsole/virt/console.py: typing into the tiny guest's
shell on QEMU's serial port and in an LXC container, the SAFE/FORCE rules, a domain not running,
following the guest through a redeploy, and libvirtd going away mid-session."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest

from rfconsole.model.spec import DomainSpec, Hypervisor
from rfconsole.virt.console import ConsoleEnd, ConsoleNotice, ConsoleState
from rfconsole.virt.errors import ConsoleBusy, ConsoleNotRunning
from rfconsole.virt.fleet import Fleet

from .conftest import (
    LXC_URI,
    QEMU_URI,
    RFCONSOLE,
    TCP_URI,
    qemu_spec,
    restart_libvirtd,
    save_spec,
    virsh,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_libvirt")]

PROMPT = b"rfguest# "
ECHO = b"echo RF$((6*7))\n"


class Screen:
    """What a console printed, and the notices it gave, waited on by condition."""

    def __init__(self) -> None:
        self.output = bytearray()
        self.notices: list[ConsoleNotice] = []
        self._changed = threading.Condition()

    def write(self, data: bytes) -> None:
        with self._changed:
            self.output += data
            self._changed.notify_all()

    def notice(self, notice: ConsoleNotice) -> None:
        with self._changed:
            self.notices.append(notice)
            self._changed.notify_all()

    def wait(self, predicate, what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(
                        f"timed out after {timeout:g} s waiting for {what}; output tail {bytes(self.output[-400:])!r}, "
                        f"notices {[n.message for n in self.notices]}"
                    )
                self._changed.wait(min(remaining, 0.5))

    def wait_output(self, text: bytes, start: int = 0, timeout: float = 60.0) -> None:
        self.wait(lambda: text in self.output[start:], repr(text), timeout)

    def wait_notice(self, state: ConsoleState, timeout: float = 60.0) -> ConsoleNotice:
        self.wait(lambda: any(n.state is state for n in self.notices), f"a '{state}' notice", timeout)
        return next(n for n in self.notices if n.state is state)


def echo_answered(console, screen: Screen, timeout: float = 60.0) -> None:
    """Type the echo (again every few seconds, while the guest still boots) until RF42 shows."""
    deadline = time.monotonic() + timeout
    start = len(screen.output)
    while b"RF42" not in screen.output[start:]:
        if time.monotonic() > deadline:
            pytest.fail(f"the guest never answered the echo; output tail {bytes(screen.output[-400:])!r}")
        console.send(ECHO)
        try:
            screen.wait_output(b"RF42", start, timeout=3)
        except pytest.fail.Exception:
            continue


def up_qemu(workdir, guest, open_fleet, name: str, uri: str = QEMU_URI) -> Fleet:
    save_spec(workdir, qemu_spec(name, guest))
    fleet = open_fleet(workdir, uri)
    fleet.up(name)
    return fleet


def test_qemu_serial_console_runs_a_command(workdir, guest, open_fleet):
    fleet = up_qemu(workdir, guest, open_fleet, "rfit-con")
    screen = Screen()
    console = fleet.console("rfit-con", on_output=screen.write, on_notice=screen.notice)
    assert console.attached and console.exclusive and not console.took_over
    echo_answered(console, screen)
    console.close()
    assert console.state is ConsoleState.CLOSED and console.end is ConsoleEnd.DETACHED
    assert screen.notices == []  # a detach the user chose is no notice
    assert virsh(QEMU_URI, "domstate", "rfit-con").strip() == "running"


def test_remote_uri_console(workdir, guest, open_fleet):
    fleet = up_qemu(workdir, guest, open_fleet, "rfit-con-tcp", TCP_URI)
    screen = Screen()
    console = fleet.console("rfit-con-tcp", on_output=screen.write)
    echo_answered(console, screen)
    console.close()


def test_lxc_console_runs_a_command(workdir, guest, open_fleet):
    save_spec(workdir, DomainSpec(hypervisor=Hypervisor.LXC, name="rfit-con-lxc", memory=64, image=guest.lxc_rootfs, init="/init"))
    fleet = open_fleet(workdir, LXC_URI)
    fleet.up("rfit-con-lxc")
    screen = Screen()
    console = fleet.console("rfit-con-lxc", on_output=screen.write)
    assert console.attached
    assert not console.exclusive  # libvirt's LXC driver takes neither SAFE nor FORCE
    echo_answered(console, screen)
    # Job control works: the shell has the console as its controlling terminal.
    start = len(screen.output)
    console.send(b"sleep 30 & jobs\n")
    screen.wait_output(b"Running", start)
    console.close()


def test_not_running_is_refused_clearly(workdir, guest, open_fleet):
    save_spec(workdir, qemu_spec("rfit-con-off", guest))
    fleet = open_fleet(workdir, QEMU_URI)
    fleet.define("rfit-con-off")
    with pytest.raises(ConsoleNotRunning) as refused:
        fleet.console("rfit-con-off", on_output=lambda data: None)
    assert "rfit-con-off" in str(refused.value) and "shut off" in str(refused.value)
    assert "start" in refused.value.hint


def test_held_console_refused_then_taken_over_with_force(workdir, guest, open_fleet):
    fleet = up_qemu(workdir, guest, open_fleet, "rfit-con-busy")
    # Another client: `rfconsole console` in a process of its own (input from a pipe, not a terminal).
    holder = subprocess.Popen(
        [str(RFCONSOLE), "--connect", QEMU_URI, "console", "rfit-con-busy"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=workdir.root,
    )
    try:
        assert b"connected to the console of rfit-con-busy" in holder.stderr.readline()
        with pytest.raises(ConsoleBusy) as refused:
            fleet.console("rfit-con-busy", on_output=lambda data: None)
        assert "held by another client" in str(refused.value) and "--force" in refused.value.hint

        screen = Screen()
        console = fleet.console("rfit-con-busy", on_output=screen.write, force=True)
        assert console.took_over and "took it over" in console.describe()
        # The client that held it is told why, and exits with a failure, without a traceback.
        assert holder.wait(timeout=30) == 1
        said = holder.stderr.read().decode()
        assert "another client took it over" in said and "Traceback" not in said
        echo_answered(console, screen)

        # Our own session holds it now: a second one in this process is told that.
        with pytest.raises(ConsoleBusy) as ours:
            fleet.console("rfit-con-busy", on_output=lambda data: None)
        assert "this rfconsole's own console session" in str(ours.value)
        console.close()
    finally:
        holder.kill()
        holder.wait()


def test_follow_reattaches_after_redeploy(workdir, guest, open_fleet):
    fleet = up_qemu(workdir, guest, open_fleet, "rfit-con-follow")
    screen = Screen()
    console = fleet.console("rfit-con-follow", on_output=screen.write, on_notice=screen.notice, follow=True)
    echo_answered(console, screen)

    fleet.redeploy("rfit-con-follow")
    waiting = screen.wait_notice(ConsoleState.WAITING)
    assert waiting.end in (ConsoleEnd.STOPPED, ConsoleEnd.RESTARTED) and "reattaches" in waiting.message
    back = screen.wait_notice(ConsoleState.ATTACHED)
    assert "reattached" in back.message
    assert console.attached
    echo_answered(console, screen)
    console.close()


def test_host_gone_mid_session_ends_it_with_a_message(workdir, guest, open_fleet):
    fleet = up_qemu(workdir, guest, open_fleet, "rfit-con-lost")
    screen = Screen()
    console = fleet.console("rfit-con-lost", on_output=screen.write, on_notice=screen.notice)
    echo_answered(console, screen)

    restart_libvirtd()

    ended = screen.wait_notice(ConsoleState.CLOSED)
    assert ended.end is ConsoleEnd.HOST_LOST and ended.problem
    assert "went away" in ended.message and QEMU_URI in ended.message
    assert console.wait(timeout=1) and not console.attached
    assert console.send(b"x") is False


def test_following_console_reattaches_when_libvirtd_is_back(workdir, guest, open_fleet):
    fleet = up_qemu(workdir, guest, open_fleet, "rfit-con-back")
    screen = Screen()
    console = fleet.console("rfit-con-back", on_output=screen.write, on_notice=screen.notice, follow=True)
    echo_answered(console, screen)

    restart_libvirtd()

    lost = screen.wait_notice(ConsoleState.WAITING)
    assert lost.end is ConsoleEnd.HOST_LOST and "went away" in lost.message
    screen.wait_notice(ConsoleState.ATTACHED, timeout=90)  # the guest survived; the host reconnects
    echo_answered(console, screen)
    console.close()


@pytest.mark.parametrize("fault, code", [("broken pipe", 141), ("full", 1)])
def test_console_whose_output_cannot_be_written_ends_with_one_line(workdir, guest, open_fleet, fault, code):
    """issue 16 item 7: `rfconsole console VM | head -c1` (or >/dev/full) dropped the guest's output
    silently and stayed attached until its input ended; now the session ends at once, main says so
    in one line and exits 141 or 1, and the guest runs on."""
    save_spec(workdir, DomainSpec(hypervisor=Hypervisor.LXC, name="rfit-con-out", memory=64, image=guest.lxc_rootfs, init="/init"))
    open_fleet(workdir, LXC_URI).up("rfit-con-out")
    reader, writer = os.pipe()
    os.close(reader)  # the reader went away: every write is EPIPE
    with open("/dev/full", "wb") as full:
        client = subprocess.Popen([str(RFCONSOLE), "--connect", LXC_URI, "console", "rfit-con-out"], cwd=workdir.root,
                                  stdin=subprocess.PIPE, stdout=writer if fault == "broken pipe" else full, stderr=subprocess.PIPE)
    os.close(writer)
    try:
        deadline = time.monotonic() + 30
        while client.poll() is None and time.monotonic() < deadline:  # the input stays open: only the lost output may end it
            client.stdin.write(ECHO)
            client.stdin.flush()
            time.sleep(0.5)
        assert client.poll() == code
        said = client.stderr.read().decode()
        assert "Traceback" not in said
        lost = [line for line in said.splitlines() if line.startswith("rfconsole: error:")]
        assert len(lost) == 1 and ("broken pipe" if fault == "broken pipe" else "No space left") in lost[0], said
        assert virsh(LXC_URI, "domstate", "rfit-con-out").strip() == "running"
    finally:
        if client.poll() is None:
            client.kill()
        client.wait()
