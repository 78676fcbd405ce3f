"""Issue 17 item 8: every sentence of a screen or dialog is read whole at 80×24 and 120×40, none cut at
an edge."""

from __future__ import annotations

import pytest

from rfconsole.tui.screens.clone import CloneDialog
from rfconsole.tui.screens.dialogs import ConfirmDialog
from tests.tui.conftest import cut_texts, wait_until
from tests.tui.test_domains import loaded

SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES)
async def test_the_clone_dialog_says_its_whole_sentence(app, size) -> None:
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CloneDialog), "the clone dialog")
        await pilot.pause(0.1)
        assert cut_texts(app.screen) == []
        await pilot.press("ctrl+u", *"rfvmA", "enter")  # a taken name: the reason shows, whole
        await wait_until(pilot, lambda: "already exists" in str(app.screen.query_one("#clone-error").render()), "the reason")
        assert cut_texts(app.screen) == []


@pytest.mark.parametrize("size", SIZES)
async def test_the_undefine_question_and_warning_are_whole(app, size) -> None:
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        await pilot.pause(0.1)
        assert cut_texts(app.screen) == []


@pytest.mark.parametrize("size", SIZES)
async def test_the_details_screen_is_whole(app, size) -> None:
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        await pilot.press("i")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "VmDetailsScreen", "the details")
        await pilot.pause(0.3)
        assert cut_texts(app.screen) == []
        shown = " ".join(
            widget.render_line(y).text for widget in app.screen.query("#details Static") for y in range(widget.size.height)
        )
        assert "02:a0:a0:a0:a0:a0" in shown and "rfvmA.1 on dp0" in shown  # a MAC and a port whole, at 80 columns too
        assert "rfconsole.toml's [ondemand]" in " ".join(shown.split())  # "[ondemand]" is words, not Rich markup
