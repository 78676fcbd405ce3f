"""Issue 19: a read-only session (``rfconsole --read-only``, what ``serve --read-only`` runs) offers
no key that changes a domain or a file, says so when one is pressed, and changes nothing."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from rfconsole.tui import keymap
from rfconsole.tui.app import RfconsoleApp
from rfconsole.tui.context import ConsoleContext
from rfconsole.tui.launch import build_context
from rfconsole.virt.events import DomainState
from tests.tui.conftest import notifications, wait_until
from tests.tui.test_domains import loaded, state_of


@pytest.fixture
def read_only_context(workdir: Path) -> Iterator[ConsoleContext]:
    context = build_context(argparse.Namespace(workdir=workdir, demo=True, connect=None, read_only=True))
    try:
        yield context
    finally:
        context.fleet.close()


def bar_text(app: RfconsoleApp) -> str:
    bar = app.screen.query_one("KeyBar")
    return " ".join(bar.render_line(y).text for y in range(bar.size.height))


async def test_a_changing_key_is_off_and_says_why(read_only_context, workdir) -> None:
    app = RfconsoleApp(read_only_context, poll_seconds=0)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await loaded(pilot)
        assert "Start" not in bar_text(app) and "Details" in bar_text(app)
        for key in ("s", "d", "u", "n", "e", "c", "z", "b", "a", "v"):
            await pilot.press(key)
        await wait_until(pilot, lambda: len(notifications(app)) >= 10, "ten refusals")
        assert all("read-only" in words for words in notifications(app)), notifications(app)
        assert "start changes things" in notifications(app)[0]
        assert type(app.screen).__name__ == "DomainsScreen"  # no wizard, editor, dialog or console opened
        assert state_of(app, "rfvmA") == "shut off"
        assert read_only_context.fleet.status("rfvmA").state is DomainState.SHUTOFF
        assert list((workdir / "XML").iterdir()) == []  # nothing written


async def test_the_help_marks_the_keys_that_are_off(read_only_context) -> None:
    app = RfconsoleApp(read_only_context, poll_seconds=0)
    async with app.run_test(size=(160, 60)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "the help")
        shown = " ".join(str(widget.render()) for widget in app.screen.query("Static"))
        assert "read-only session" in shown
        start_line = next(line for line in shown.splitlines() if "Start the selected domain" in line)
        details_line = next(line for line in shown.splitlines() if "Details of the selected VM" in line)
        assert "off: read-only" in start_line and "off: read-only" not in details_line


async def test_a_read_write_session_keeps_every_key(app) -> None:
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        assert "Start" in bar_text(app) and not app.refuses("start")
        await pilot.press("s")
        await wait_until(pilot, lambda: state_of(app, "rfvmA") == "running", "rfvmA running")


def test_no_action_name_both_changes_and_does_not() -> None:
    """keymap.CHANGING_ACTIONS goes by action name: a name may not be changing on one screen and
    harmless on another (the read-only gate would then refuse the harmless one)."""
    harmless = {key.action.split("(")[0] for section in keymap.SECTIONS for key in section.keys if not key.changes}
    assert keymap.CHANGING_ACTIONS and not keymap.CHANGING_ACTIONS & harmless
