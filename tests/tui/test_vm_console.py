"""The VM console key on the demo driver (whose test driver has no consoles: a clear notice), and
the terminal widget itself: pyte's screen drawn, keys turned into a terminal's bytes, the
emulator's answers sent back, scrollback. The screen against real guests: tests/e2e/test_vm_console_tui.py."""

from __future__ import annotations

from textual.app import App

from rfconsole.tui.screens.vmconsole import VmConsoleScreen, open_consoles
from rfconsole.tui.widgets.terminal import TerminalView
from tests.tui.conftest import notifications, wait_until


async def test_console_key_on_the_demo_says_the_driver_has_none(app, context) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.screen.query("DomainTable") and app.screen.query_one("DomainTable").row_count >= 4, "rows")
        context.fleet.start("rfvmA")
        await pilot.press("v")
        await wait_until(pilot, lambda: any("has no text consoles" in n for n in notifications(app)), "the notice")
        assert not isinstance(app.screen, VmConsoleScreen) and open_consoles(app) == []


class TerminalApp(App):
    """The widget alone, its input collected: what the console screen wires to the stream."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []

    def compose(self):
        yield TerminalView(self.sent.append)

    def on_mount(self) -> None:
        self.query_one(TerminalView).focus()


async def test_terminal_feeds_draws_and_sends_every_key_to_the_guest() -> None:
    app = TerminalApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(TerminalView)
        view.feed(b"RF\x1b[31m42\x1b[0m\r\nrfguest# \x1b[6n")
        await pilot.pause()
        assert view.text().splitlines()[:2] == ["RF42", "rfguest#"]
        red = [segment for segment in view.render_line(0) if segment.text.startswith("42")]
        assert red and red[0].style.color.name == "red"
        assert app.sent == [b"\x1b[2;10R"]  # the cursor position the shell asked for

        await pilot.press("q", "question_mark", "enter", "ctrl+c", "up", "backspace", "f5")
        await wait_until(pilot, lambda: len(app.sent) == 8, "the keys sent")
        assert app.sent[1:] == [b"q", b"?", b"\r", b"\x03", b"\x1b[A", b"\x7f", b"\x1b[15~"]


async def test_scrollback_and_copy_text() -> None:
    app = TerminalApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(TerminalView)
        await pilot.pause()
        view.feed(b"".join(b"line %d\r\n" % n for n in range(100)))
        await pilot.pause()
        assert "line 99" in view.text() and "line 10\n" not in view.text() + "\n"
        view.scroll_history(-7)
        assert view.scrolled_back and "line 99" not in view.text()
        await pilot.press("x")  # typing returns to the bottom
        await wait_until(pilot, lambda: not view.scrolled_back and "line 99" in view.text(), "the bottom again")
        assert app.sent == [b"x"]


async def test_the_console_panes_key_bar_shows_only_keys_that_reach_rfconsole(app) -> None:
    """In the pane every key but the console's priority ones goes to the guest: the bar offers
    those (back to the table, next console, close, F1 for help, ctrl+q to quit), not '?' or 'q'."""
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.screen.query("DomainTable"), "the table")
        pane = VmConsoleScreen("rfvmA", "demo")  # the demo driver has no consoles: the pane, not attached
        app.push_screen(pane)
        await wait_until(pilot, lambda: app.screen is pane and pane.query("KeyBar") and "Table" in str(pane.query_one("KeyBar").render()), "the pane")
        bar = str(pane.query_one("KeyBar").render())
        for shown in ("ctrl+] Table", "F3 Next console", "F10 Close", "F1 Help", "ctrl+q Quit"):
            assert shown in bar, (shown, bar)
        words = bar.split()
        assert "?" not in words and "q" not in words, bar

        await pilot.press("q", "question_mark")  # the guest's: nothing of rfconsole happens
        await pilot.pause()
        assert app.screen is pane and app.return_code is None
        await pilot.press("ctrl+q")  # as the bar says
        await wait_until(pilot, lambda: app.return_code is not None, "the app quitting")
