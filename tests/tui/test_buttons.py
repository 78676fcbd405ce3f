"""Every button of the console, clicked (issue 17 item 3: the wizard's "Save ^s" did nothing,
and no test had clicked it). Each click must do what its key does, seen on screen or on disk; a
screen showing a button this file does not click fails ``test_no_button_goes_unclicked``."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button

from rfconsole.tui.screens.bringup import BringUpScreen
from rfconsole.tui.screens.clone import CloneDialog
from rfconsole.tui.screens.dialogs import (
    ConfirmDialog,
    FilePickerDialog,
    XmlPickerDialog,
)
from rfconsole.tui.screens.domains import DomainsScreen
from rfconsole.tui.screens.wizard import WizardScreen
from rfconsole.tui.widgets.wizardfields import NicRow
from tests.tui.conftest import wait_until
from tests.tui.test_wizard import (
    answered,
    choose_target,
    next_until,
    open_wizard,
    step_id,
    yes_replace_it,
)

CLICKED = {
    WizardScreen: {"back", "next", "browse", "add-nic", "remove-nic", "save", "save-define", "save-start"},
    ConfirmDialog: {"yes", "no"},
    CloneDialog: {"yes", "no"},
    BringUpScreen: {"choose-rfvmA", "choose-rfvmB", "choose-rfvmC", "choose-rfvmD", "deploy", "close"},
}


async def click(pilot, button_id: str) -> None:
    await pilot.click(f"#{button_id}")
    await pilot.pause()


async def home(pilot) -> DomainsScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DomainsScreen) and pilot.app.screen.query_one("DataTable").row_count == 4,
                     "the home screen with the demo's four VMs")
    return pilot.app.screen


async def test_the_wizards_buttons(app, context, workdir: Path) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await click(pilot, "next")
        await answered(pilot, wizard)
        assert step_id(wizard) == "hypervisor"
        await click(pilot, "back")
        assert step_id(wizard) == "target"
        await next_until(pilot, wizard, "storage")
        await click(pilot, "browse")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePickerDialog), "the file picker")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is wizard, "back in the wizard")
        await next_until(pilot, wizard, "network")
        rows = len(wizard.query(NicRow))
        await click(pilot, "add-nic")
        assert len(wizard.query(NicRow)) == rows + 1
        await click(pilot, "remove-nic")
        await wait_until(pilot, lambda: len(wizard.query(NicRow)) == rows, "the NIC removed")
        await next_until(pilot, wizard, "review")
        (workdir / "Images" / "h1.img").write_bytes(b"")
        await click(pilot, "save-define")
        await yes_replace_it(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "back on the table", timeout=10)
        assert (workdir / "XML" / "rfvmA.xml").is_file() and context.fleet.status("rfvmA").state.value == "shut off"
        wizard = await open_wizard(pilot)
        await choose_target(pilot, wizard, "rfvmB")
        (workdir / "Images" / "h2.img").write_bytes(b"")
        await next_until(pilot, wizard, "review")
        await click(pilot, "save-start")
        await yes_replace_it(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "back on the table", timeout=10)
        await wait_until(pilot, lambda: context.fleet.status("rfvmB").state.value == "running", "rfvmB running")
        # "save" itself: test_wizard.test_the_save_button_saves


async def test_the_confirm_dialogs_buttons(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "identity")  # past the first step: leaving asks
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        await click(pilot, "no")
        await wait_until(pilot, lambda: app.screen is wizard, "still in the wizard")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question again")
        await click(pilot, "yes")
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "left the wizard")


async def test_the_clone_dialogs_buttons(app, context, workdir: Path) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await home(pilot)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CloneDialog), "the clone dialog")
        await click(pilot, "no")
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "the dialog closed")
        assert not list((workdir / "XML").glob("*.xml"))
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CloneDialog), "the clone dialog again")
        await click(pilot, "yes")
        await wait_until(pilot, lambda: len(list((workdir / "XML").glob("*.xml"))) == 1, "the clone written to XML/", timeout=10)


async def test_the_bring_ups_buttons(app, workdir: Path) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await home(pilot)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, BringUpScreen), "the bring-up")
        bring_up = app.screen
        for slot in ("rfvmA", "rfvmB", "rfvmC", "rfvmD"):
            await click(pilot, f"choose-{slot}")
            await wait_until(pilot, lambda: isinstance(app.screen, XmlPickerDialog), f"the XML picker for {slot}")
            assert app.screen.title_text == f"XML for {slot}"  # each slot's own button
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is bring_up, "back on the bring-up")
        await click(pilot, "deploy")  # nothing chosen: it says what to do first
        await wait_until(pilot, lambda: any("choose an XML for rfvmA" in str(n.message) for n in app._notifications), "the hint")
        await click(pilot, "close")
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "back on the table")


async def test_no_button_goes_unclicked(app) -> None:
    """Every screen with buttons, opened: each button it shows is one the tests above click."""
    async with app.run_test(size=(120, 40)) as pilot:
        await home(pilot)
        seen: dict[type, set[str]] = {}

        def note() -> None:
            seen.setdefault(type(app.screen), set()).update(button.id for button in app.screen.query(Button))

        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, BringUpScreen), "the bring-up")
        note()
        await pilot.press("escape")
        await home(pilot)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CloneDialog), "the clone dialog")
        note()
        await pilot.press("escape")
        wizard = await open_wizard(pilot)
        note()
        await next_until(pilot, wizard, "identity")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "a confirmation")
        note()
        for screen, ids in seen.items():
            assert ids <= CLICKED.get(screen, set()), f"{screen.__name__} shows buttons no test clicks: {sorted(ids - CLICKED.get(screen, set()))}"
