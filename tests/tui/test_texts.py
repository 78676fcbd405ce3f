"""Issue 17 item 8: every sentence of a screen or dialog is read whole at 80×24 and 120×40, none cut at
an edge."""

from __future__ import annotations

import pytest

from rfconsole.tui.screens.clone import CloneDialog
from rfconsole.tui.screens.dialogs import ConfirmDialog
from tests.tui.conftest import cut_texts, toasts_shown, wait_until
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


@pytest.mark.parametrize("size", SIZES)
async def test_the_console_status_says_its_state_and_a_takeover_whole(app, size) -> None:
    from rfconsole.tui.screens.vmconsole import VmConsoleScreen
    from rfconsole.virt.console import ConsoleNotice, ConsoleState

    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        screen = VmConsoleScreen("rfvmA", "demo")
        await app.push_screen(screen)
        words = ("connected to the console of rfvmA on host demo (test:///default); took it over from the client "
                 "that held it (that client was disconnected)")
        screen.post_message(VmConsoleScreen.Notice(ConsoleNotice(ConsoleState.ATTACHED, words)))
        status = screen.query_one("#console-status")
        await wait_until(pilot, lambda: "took it over" in str(status.render()), "the status")
        await pilot.pause(0.1)
        assert str(status.render()).startswith("[attaching] connected to the console")  # the state is words, not markup
        assert cut_texts(screen) == []


async def test_a_notification_with_brackets_is_shown_as_words(app) -> None:
    """An OS error's "[Errno 13]" or a libvirt message's "[ondemand]" is words, not markup, wherever it is notified from."""

    from tests.tui.conftest import notifications

    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        app.report(PermissionError(13, "Permission denied", "/tmp/x"), "saving")
        app.screen.notify("see rfconsole.toml's [ondemand] table")
        shown = toasts_shown(app, 2)
        await wait_until(pilot, lambda: bool(shown()), "the toasts laid out")
        toasts = shown()
        assert "[Errno 13] Permission denied" in toasts and "[ondemand]" in toasts, (toasts, notifications(app))


async def test_a_hint_for_the_command_line_is_not_given_as_a_console_step(app, context) -> None:
    """Issue 17 item 8: '--force' means nothing in the console: a console hint is given where the error
    has one, and a command-line hint is said to be one."""

    from rfconsole.images import Images

    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        overlay = context.workdir.images_dir / "rfvmE.qcow2"
        overlay.write_bytes(b"")
        try:
            Images(context.workdir).check_overlay_target(overlay)
        except Exception as error:  # noqa: BLE001 - the real refusal, reported as the console reports any
            app.report(error, "saving rfvmE")
        try:
            context.fleet.host("elsewhere")
        except Exception as error:  # noqa: BLE001
            app.report(error, "opening a host")
        from rfconsole.errors import RfconsoleError
        app.report(RfconsoleError("no base named b1", hint="register it first: rfconsole image base b1"), "a base")
        shown = toasts_shown(app, 3)
        await wait_until(pilot, lambda: bool(shown()), "the toasts laid out")
        toasts = shown()
        assert "--force" not in toasts and "choose another name for the VM" in toasts, toasts
        assert "rfconsole --connect URI when the console starts" in toasts, toasts
        assert "on the command line: register it first: rfconsole image base b1" in toasts, toasts


async def test_a_long_path_in_an_error_is_shown_whole_at_80x24(app) -> None:
    from textual.widgets._toast import Toast

    from rfconsole.errors import RfconsoleError

    path = "/srv/lab/" + "/".join(f"a-rather-long-folder-name-{number}" for number in range(5)) + "/rfvmA.qcow2"
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        app.report(RfconsoleError(f"cannot write {path}: the folder does not exist"), "saving rfvmA")
        await wait_until(pilot, lambda: bool(toasts_shown(app, 1)()), "the notification laid out")
        toast = app.screen.query_one(Toast)
        shown = "".join(toast.render_line(y).text.strip() for y in range(toast.size.height))
        assert path in shown and toast.region.bottom < 24 - 2, (shown, toast.region)  # whole, and above the key bar
