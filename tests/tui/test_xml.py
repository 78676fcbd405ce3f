"""The XML view and editor: highlighted, checked as you type, an invalid edit refused, a valid one saved
atomically with a backup, and a diff against libvirt's live definition."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Label, TextArea

from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import preset_spec
from rfconsole.model.spec import Hypervisor
from rfconsole.store import Store, Workdir
from rfconsole.tui.screens.domains import DomainsScreen
from rfconsole.tui.screens.xmleditor import XmlScreen
from tests.tui.conftest import notifications, wait_until


def save_rfvmA(workdir: Path) -> Path:
    store = Store(Workdir(workdir))
    return store.save(DomainDocument.from_spec(preset_spec("rfvmA", Hypervisor.TEST, store.workdir).with_changes(id=1)))


async def open_xml(pilot, key: str) -> XmlScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DomainsScreen) and pilot.app.screen.table.domains, "the table")
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, XmlScreen), "the XML screen")
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.query_one("#xml-text", TextArea).text, "the XML loaded")
    return screen


def problems_text(screen: XmlScreen) -> str:
    return str(screen.query_one("#xml-problems", Label).render())


async def test_view_shows_the_file_highlighted_and_read_only(app, workdir: Path) -> None:
    path = save_rfvmA(workdir)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_xml(pilot, "x")
        area = screen.query_one("#xml-text", TextArea)
        assert area.read_only and area.language == "xml"
        assert area.text == path.read_text()
        assert area.is_syntax_aware  # tree-sitter's XML grammar is installed
        assert "valid" in problems_text(screen)


async def test_view_of_a_domain_without_a_file_shows_libvirts_definition(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_xml(pilot, "x")
        assert "<name>rfvmA</name>" in screen.query_one("#xml-text", TextArea).text
        assert "live definition" in str(screen.query_one("#xml-source", Label).render())


async def test_invalid_edit_is_refused_with_words_and_line_number(app, workdir: Path) -> None:
    path = save_rfvmA(workdir)
    before = path.read_text()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_xml(pilot, "e")
        area = screen.query_one("#xml-text", TextArea)
        area.text = before.replace("<vcpu>1</vcpu>", "<vcpu>one</vcpu>")
        await wait_until(pilot, lambda: "✗" in problems_text(screen), "the check as you type")
        assert "line" in problems_text(screen)
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert path.read_text() == before
        assert any("not saved" in n for n in notifications(app))

        area.text = before.replace("<name>rfvmA</name>", "<name>rfvmA</nam>")  # not even XML
        await wait_until(pilot, lambda: "line" in problems_text(screen) and "✗" in problems_text(screen), "the parse error")
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert path.read_text() == before


async def test_problems_name_fields_as_the_screen_does_not_as_the_model_does(app, workdir: Path) -> None:
    """Issue 17 item 8: 'eth1 MAC', 'kernel', never 'interfaces.1.mac' or 'kernel_boot.kernel'."""
    path = save_rfvmA(workdir)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_xml(pilot, "e")
        area = screen.query_one("#xml-text", TextArea)
        area.text = path.read_text().replace("02:a1:a1:a1:a1:a1", "02:a1:a1:a1:a1")
        await wait_until(pilot, lambda: "✗" in problems_text(screen), "the check as you type")
        text = problems_text(screen)
        assert "eth1 MAC: a MAC address" in text and "interfaces." not in text, text


async def test_valid_edit_is_saved_with_a_backup(app, workdir: Path) -> None:
    path = save_rfvmA(workdir)
    before = path.read_text()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_xml(pilot, "e")
        area = screen.query_one("#xml-text", TextArea)
        area.text = before.replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>")
        await wait_until(pilot, lambda: "valid" in problems_text(screen), "the check")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "<vcpu>2</vcpu>" in path.read_text(), "the save")
        backups = Store(Workdir(workdir)).backups("rfvmA")
        assert len(backups) == 1 and backups[0].read_text() == before


async def test_an_image_changed_in_the_editor_shows_in_the_table_after_saving(app, workdir: Path) -> None:
    path = save_rfvmA(workdir)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_xml(pilot, "e")
        area = screen.query_one("#xml-text", TextArea)
        area.text = path.read_text().replace("Images/h1.img", "Images/other.img")
        await wait_until(pilot, lambda: "valid" in problems_text(screen), "the check")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "Images/other.img" in path.read_text(), "the save")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "the table")
        table = app.screen.query_one("DomainTable")
        await wait_until(pilot, lambda: str(table.get_cell("demo/rfvmA", "image")) == "Images/other.img", "the new image in its row")


async def test_diff_against_libvirts_live_definition(app, workdir: Path) -> None:
    save_rfvmA(workdir)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_xml(pilot, "x")
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert screen.query_one("#xml-diff").display
        diff = screen.diff_text
        assert "libvirt (live)" in diff and "XML/ file" in diff
        assert any(line.startswith("+") and "Images/h1.img" in line for line in diff.splitlines())  # the file has a disk, the demo none


async def test_the_diff_leaves_out_what_libvirt_filled_in_and_shows_a_real_change(app, context, workdir: Path) -> None:
    path = save_rfvmA(workdir)
    (workdir / "Images" / "h1.img").write_bytes(b"")  # the file's disk, so the demo accepts the define
    context.fleet.define("rfvmA", force=True)  # libvirt's definition is now the file's, plus its defaults
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_xml(pilot, "e")
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert screen.diff_text.startswith("no difference"), screen.diff_text
        assert "libvirt filled in" in screen.diff_text
        await pilot.press("ctrl+d")  # closed
        screen.query_one("#xml-text", TextArea).text = path.read_text().replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>")
        await pilot.press("ctrl+d")
        await pilot.pause()
        changed = [line for line in screen.diff_text.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
        assert changed == ["-  <vcpu>1</vcpu>", "+  <vcpu>2</vcpu>"], screen.diff_text


async def test_the_read_only_view_does_not_offer_save(app, workdir: Path) -> None:
    save_rfvmA(workdir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_xml(pilot, "x")
        await pilot.pause()
        keys = str(screen.query_one("KeyBar").render())
        assert "Diff vs libvirt" in keys and "Save" not in keys


async def test_where_the_editor_saves_is_readable_whole_at_80x24(app, workdir: Path) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_xml(pilot, "e")  # rfvmA has no file yet: libvirt's definition, saved to XML/
        await pilot.pause()
        source = screen.query_one("#xml-source", Label)
        text = str(source.render())
        assert "XML/rfvmA.xml" in text
        shown = source.content_region.intersection(screen.region)  # the label may run off the screen
        assert len(text) <= shown.width * shown.height


async def test_escape_closes_the_editor_but_first_warns_of_unsaved_changes(app, workdir: Path) -> None:
    save_rfvmA(workdir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_xml(pilot, "e")
        await pilot.press("escape")  # nothing changed: closes at once, though the text has the focus
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "back on the table")
        screen = await open_xml(pilot, "e")
        screen.query_one("#xml-text", TextArea).insert("<!-- note -->")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        assert any("unsaved changes" in message and "rfvmA" in message for message in notifications(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "back on the table, the edit dropped")


async def test_a_file_changed_by_another_rfconsole_meanwhile_is_not_overwritten(app, workdir: Path) -> None:
    """The console's editor and a CLI command on the same file: the later save is refused by
    name, the other's change stays."""
    path = save_rfvmA(workdir)
    before = path.read_text()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_xml(pilot, "e")
        cli = Store(Workdir(workdir))  # `rfconsole xml set rfvmA memory=64` meanwhile
        theirs = cli.load("rfvmA")
        theirs.apply(theirs.spec().with_changes(memory=64))
        cli.save(theirs, overwrite=True)
        changed_by_them = path.read_text()
        area = screen.query_one("#xml-text", TextArea)
        area.text = before.replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>")
        await wait_until(pilot, lambda: "valid" in problems_text(screen), "the check")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any("changed since it was read" in n for n in notifications(app)), "the refusal")
        assert path.read_text() == changed_by_them
        assert any(str(path) in n for n in notifications(app))


async def test_the_editor_saves_again_over_its_own_save(app, workdir: Path) -> None:
    path = save_rfvmA(workdir)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_xml(pilot, "e")
        area = screen.query_one("#xml-text", TextArea)
        for vcpus in (2, 3):
            area.text = path.read_text().replace(f"<vcpu>{vcpus - 1}</vcpu>", f"<vcpu>{vcpus}</vcpu>")
            await wait_until(pilot, lambda: "valid" in problems_text(screen), "the check")
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda vcpus=vcpus: f"<vcpu>{vcpus}</vcpu>" in path.read_text(), "the save")
