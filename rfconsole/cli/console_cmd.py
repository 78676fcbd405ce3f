"""``rfconsole console VM [--host NAME] [--force]`` (parser: console_args.py): this terminal on a
running VM's console, like ``virsh console``. See docs/console.md."""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
import termios
import tty
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from rfconsole.cli import EXIT_FAILED, EXIT_OK, output_failed
from rfconsole.cli.vm_cmd import open_fleet
from rfconsole.virt.console import DETACH_KEY, DETACH_KEY_NAME, Console, ConsoleNotice

READ_SIZE = 4096


class _Terminated(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def run_console(args: argparse.Namespace) -> int:
    fleet = open_fleet(args)
    try:
        return attach_terminal(fleet, args.vm, host=args.host, force=args.force)
    finally:
        fleet.close()


def attach_terminal(fleet, name: str, host: str | None = None, force: bool = False, in_fd: int = 0, out_fd: int = 1) -> int:
    """Relay ``in_fd``/``out_fd`` (raw, when a terminal) to the console until ctrl+], the end of
    input, the end of the session, or SIGTERM/SIGHUP; the terminal's settings come back as they were."""
    wake_read, wake_write = os.pipe()
    lost: list[OSError] = []  # the guest's output could not be written (`| head`, a full disk): the session ends

    def output(data: bytes) -> None:
        if lost:
            return
        try:
            _write_all(out_fd, data)
        except OSError as error:
            lost.append(error)
            os.write(wake_write, b"!")

    def notice(_notice: ConsoleNotice) -> None:
        os.write(wake_write, b"!")

    try:
        console = fleet.console(name, host, on_output=output, on_notice=notice, force=force)
        _say(f"{console.describe()}\nescape character is {DETACH_KEY_NAME}")
        try:
            with _raw_terminal(in_fd), _signals_raise():
                detached = _relay(console, in_fd, wake_read, lambda: bool(lost))
        except _Terminated as stop:
            console.close()
            _say(f"terminated by signal {stop.signum}; detached from the console of {console.where}")
            return 128 + stop.signum
        console.close()
        if lost:  # main says it in one line and exits 141 (broken pipe) or 1
            output_failed(lost[0])
            return EXIT_OK
        if detached or console.end_message is None:
            _say(f"detached from the console of {console.where}")
            return EXIT_OK
        _say(console.end_message)
        return EXIT_FAILED if console.end is not None and console.end.problem else EXIT_OK
    finally:
        os.close(wake_read)
        os.close(wake_write)


def _relay(console: Console, in_fd: int, wake_fd: int, output_lost: Callable[[], bool]) -> bool:
    """True when the user detached (ctrl+] or end of input), False when the session ended or
    its output could not be written."""
    while True:
        readable, _, _ = select.select([in_fd, wake_fd], [], [])
        if wake_fd in readable and (not console.attached or output_lost()):
            return False
        if in_fd in readable:
            data = os.read(in_fd, READ_SIZE)
            if not data:
                return True
            before, escape, _ = data.partition(DETACH_KEY)
            if before:
                console.send(before)
            if escape:
                return True
        elif wake_fd in readable:
            os.read(wake_fd, READ_SIZE)


@contextmanager
def _raw_terminal(fd: int) -> Iterator[None]:
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSADRAIN)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextmanager
def _signals_raise() -> Iterator[None]:
    def stop(signum: int, _frame: FrameType | None) -> None:
        raise _Terminated(signum)

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        view = view[written:]


def _say(text: str) -> None:
    # \r\n: the terminal may be raw while the session ends
    for line in text.splitlines():
        sys.stderr.write(f"rfconsole: {line}\r\n")
    sys.stderr.flush()
