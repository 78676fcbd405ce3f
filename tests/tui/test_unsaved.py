"""Nothing a user typed is dropped without asking: q, ctrl+q and the wizard's escape ask first
when a screen holds unsaved work, and do at once what they say when there is none."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, TextArea

from rfconsole.tui.screens.dialogs import ConfirmDialog
from rfconsole.tui.screens.domains import DomainsScreen
from rfconsole.tui.screens.xmleditor import XmlScreen
from tests.tui.conftest import wait_until
from tests.tui.test_wizard import next_until, open_wizard
from tests.tui.test_xml import open_xml, save_rfvmA


def confirm_dialogs(app) -> list[ConfirmDialog]:
    return [screen for screen in app.screen_stack if isinstance(screen, ConfirmDialog)]


async def test_q_on_a_wizard_with_fields_filled_asks_before_quitting(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "hypervisor")  # the focus is on a radio set: 'q' is no text there
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        assert "wizard" in app.screen.warning and app.screen.question == "Quit rfconsole?"
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is wizard, "back on the wizard")
        assert app.is_running and app.return_code is None

        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question again")
        await pilot.press("y")
        await wait_until(pilot, lambda: app.return_code is not None, "the app quitting")
        assert app.return_code == 0


async def test_escape_on_a_wizard_with_a_name_typed_asks_and_keeps_it(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "identity")
        wizard.query_one("#f-name", Input).value = "mine"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        await pilot.press("escape")  # no
        await wait_until(pilot, lambda: app.screen is wizard, "back on the wizard")
        assert wizard.query_one("#f-name", Input).value == "mine"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question again")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "the table")


async def test_escape_on_an_untouched_wizard_leaves_at_once(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await open_wizard(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "the table")


async def test_ctrl_q_in_the_editor_with_unsaved_invalid_changes_asks(app, workdir: Path) -> None:
    save_rfvmA(workdir)
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_xml(pilot, "e")
        area = editor.query_one("#xml-text", TextArea)
        area.insert("<broken", (0, 0))
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        assert "rfvmA" in app.screen.question + app.screen.warning
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is editor, "back in the editor")
        assert area.text.startswith("<broken")
        assert app.return_code is None


async def test_q_with_nothing_unsaved_quits_at_once(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "the table")
        await pilot.press("q")
        await wait_until(pilot, lambda: app.return_code is not None, "the app quitting")
        assert not isinstance(app.screen, ConfirmDialog)


async def test_ctrl_q_in_the_xml_view_quits_at_once(app, workdir: Path) -> None:
    save_rfvmA(workdir)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_xml(pilot, "x")
        assert isinstance(app.screen, XmlScreen)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: app.return_code is not None, "the app quitting")


async def test_quit_over_a_wizard_and_an_editor_asks_once_naming_each_screen_its_vm_and_file(app, context, workdir: Path) -> None:
    save_rfvmA(workdir)
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "identity")
        wizard.query_one("#f-name", Input).value = "mine"
        # no key opens the editor over the wizard today; a later screen holding work may well be stacked so
        editor = XmlScreen("rfvmA", host=context.fleet.host().name, editable=True)
        app.push_screen(editor)
        await wait_until(pilot, lambda: editor.is_mounted and editor.query_one("#xml-text", TextArea).text, "the XML loaded")
        editor.query_one("#xml-text", TextArea).insert("<broken", (0, 0))
        await pilot.pause()

        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        dialog = app.screen
        assert len(confirm_dialogs(app)) == 1
        assert "wizard" in dialog.warning and "mine" in dialog.warning
        assert "XML editor" in dialog.warning and "rfvmA" in dialog.warning and "XML/rfvmA.xml" in dialog.warning
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is editor, "back in the editor, asked once")
        assert not confirm_dialogs(app) and app.return_code is None

        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question again")
        await pilot.press("y")
        await wait_until(pilot, lambda: app.return_code is not None, "the app quitting at the first yes")
        assert app.return_code == 0


async def test_q_and_ctrl_q_ask_the_same_question(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "hypervisor")
        asked = []
        for key in ("q", "ctrl+q"):
            await pilot.press(key)
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), f"the question after {key}")
            asked.append((app.screen.question, app.screen.warning))
            await pilot.press("n")
            await wait_until(pilot, lambda: app.screen is wizard, "back on the wizard")
        assert asked[0] == asked[1] and "wizard" in asked[0][1]


async def test_a_wizard_left_is_no_longer_named_when_quitting(app, workdir: Path) -> None:
    save_rfvmA(workdir)
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "identity")
        wizard.query_one("#f-name", Input).value = "mine"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "leave the wizard?")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "the table")
        editor = await open_xml(pilot, "e")
        editor.query_one("#xml-text", TextArea).insert("<!-- mine -->", (0, 0))
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        assert "rfvmA" in app.screen.warning and "wizard" not in app.screen.warning
