"""rftest2's bring-up: an XML for each of rfvmA–rfvmD (picked from XML/ or made by the wizard), then all four deployed."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Label

from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import preset_spec
from rfconsole.model.spec import Hypervisor
from rfconsole.store import Store, Workdir
from rfconsole.tui.screens.bringup import BringUpScreen
from rfconsole.tui.screens.dialogs import ConfirmDialog, XmlPickerDialog
from rfconsole.tui.screens.domains import DomainsScreen
from rfconsole.tui.screens.wizard import WizardScreen
from tests.tui.conftest import notifications, wait_until

SLOTS = ("rfvmA", "rfvmB", "rfvmC", "rfvmD")


def save_presets(workdir: Path, names) -> None:
    """Their files in XML/ (rfvmA id 1 … rfvmD id 4), and their images (a VM is not started without its image)."""
    store = Store(Workdir(workdir))
    for name in names:
        spec = preset_spec(name, Hypervisor.TEST, store.workdir).with_changes(id=SLOTS.index(name) + 1)
        spec.image.write_bytes(b"")
        store.save(DomainDocument.from_spec(spec))


def state(context, name: str) -> str:
    status = next(s for s in context.fleet.statuses() if s.name == name)
    return str(getattr(status.state, "value", status.state))


async def open_bringup(pilot) -> BringUpScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DomainsScreen), "the home screen")
    await pilot.press("a")
    # mounted (its files chosen, its first button focused), not only on the stack: keys are its own then
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, BringUpScreen) and pilot.app.screen.focused is not None,
                     "the bring-up")
    return pilot.app.screen


async def test_deploy_all_four_with_progress_and_result(app, context, workdir: Path) -> None:
    save_presets(workdir, SLOTS)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_bringup(pilot)
        assert all(screen.chosen[slot] == workdir / "XML" / f"{slot}.xml" for slot in SLOTS)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: not screen.deploying and all(
            "✓" in str(screen.query_one(f"#result-{slot}", Label).render()) for slot in SLOTS), "four results", timeout=15)
        assert all(state(context, slot) == "running" for slot in SLOTS)


async def test_deploy_asks_first_naming_each_domain_it_replaces_and_its_host(app, context, workdir: Path) -> None:
    save_presets(workdir, SLOTS)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bringup(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        for slot in SLOTS:  # the demo host has all four defined already
            assert f"{slot} on host demo" in app.screen.question
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is screen, "back on the bring-up")
        assert not screen.deploying
        assert all(state(context, slot) == "shut off" for slot in SLOTS)


async def test_refuses_to_deploy_with_a_slot_unchosen(app, context, workdir: Path) -> None:
    save_presets(workdir, SLOTS[:3])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_bringup(pilot)
        await pilot.press("ctrl+r")
        await pilot.pause(0.2)
        assert not screen.deploying
        assert state(context, "rfvmA") == "shut off"


async def test_pick_an_existing_file_or_go_to_the_wizard(app, workdir: Path) -> None:
    save_presets(workdir, ["rfvmA"])
    (workdir / "XML" / "other.xml").write_text((workdir / "XML" / "rfvmA.xml").read_text().replace("rfvmA", "other").replace('id="1"', 'id="9"'))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_bringup(pilot)
        await pilot.press("4")  # rfvmD's XML
        await wait_until(pilot, lambda: isinstance(app.screen, XmlPickerDialog), "the XML picker")
        await pilot.press("down", "enter")  # after "new with the wizard": other.xml, a VM that is not rfvmD
        await wait_until(pilot, lambda: isinstance(app.screen, BringUpScreen), "back on the bring-up")
        assert screen.chosen["rfvmD"] is None
        assert any("other.xml defines other, not rfvmD" in n for n in notifications(app))

        save_presets(workdir, ["rfvmD"])  # (id 4)
        await pilot.press("4")
        await wait_until(pilot, lambda: isinstance(app.screen, XmlPickerDialog), "the XML picker")
        await pilot.press("end", "enter")  # rfvmD.xml, sorted last
        await wait_until(pilot, lambda: isinstance(app.screen, BringUpScreen), "back on the bring-up")
        assert screen.chosen["rfvmD"] == workdir / "XML" / "rfvmD.xml"

        await pilot.press("3")
        await wait_until(pilot, lambda: isinstance(app.screen, XmlPickerDialog), "the XML picker")
        await pilot.press("enter")  # new with the wizard
        await wait_until(pilot, lambda: isinstance(app.screen, WizardScreen), "the wizard for rfvmC")
        wizard = app.screen
        assert wizard.target() == "rfvmC"


async def test_the_keys_choosing_each_xml_are_shown(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bringup(pilot)
        await pilot.pause()
        assert "1–4 Choose XML" in str(screen.query_one("KeyBar").render())


async def test_a_failed_row_keeps_its_whole_reason_after_the_notification_fades(app, context, workdir: Path) -> None:
    """Issue 17 item 4: rfvmA's image is missing, so its deploy fails; its row keeps the whole
    reason (message and hint), which r shows, once every notification is gone."""
    from textual.widgets import Static

    from rfconsole.tui.screens.bringup import ReasonsDialog

    save_presets(workdir, SLOTS)
    image = Store(Workdir(workdir)).load("rfvmA").spec().image
    image.unlink()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_bringup(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog) or screen.deploying, "the deploy")
        if isinstance(app.screen, ConfirmDialog):
            await pilot.press("y")
        await wait_until(pilot, lambda: not screen.deploying and "✗" in str(screen.query_one("#result-rfvmA", Label).render()),
                         "rfvmA failed", timeout=15)
        app.clear_notifications()
        await pilot.pause()
        assert "r: why" in str(screen.query_one("#result-rfvmA", Label).render())
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonsDialog), "the reasons")
        shown = " ".join(str(widget.render()) for widget in app.screen.query(Static))
        assert "rfvmA" in shown and str(image.name) in shown and "hint:" in shown, shown
        assert "rfvmB" not in shown  # only the failed ones
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "back to the bring-up")
