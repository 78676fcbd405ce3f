"""A crash of the console is never a silent success: non-zero exit status and a sentence on stderr."""

from __future__ import annotations

from rfconsole.tui.app import RfconsoleApp
from rfconsole.tui.launch import CRASH_MESSAGE, run_app


class CrashingApp(RfconsoleApp):
    """The real console, with a bug planted in its start-up."""

    def on_mount(self) -> None:
        super().on_mount()
        raise ValueError("a bug planted by the test")


def test_a_crash_exits_non_zero_with_a_readable_message(context, capsys) -> None:
    status = run_app(CrashingApp(context, poll_seconds=0), headless=True)
    assert status != 0
    captured = capsys.readouterr()
    assert CRASH_MESSAGE in captured.err


def test_a_normal_quit_exits_zero(context, capsys) -> None:
    app = RfconsoleApp(context, poll_seconds=0)
    app.call_later(app.exit)
    assert run_app(app, headless=True) == 0
    assert CRASH_MESSAGE not in capsys.readouterr().err
