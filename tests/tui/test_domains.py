"""The home screen on the demo driver: rows live from libvirt's events, filter, sort, selection, lifecycle."""

from __future__ import annotations

from rfconsole.tui.screens.dialogs import ConfirmDialog
from rfconsole.tui.screens.domains import DomainsScreen
from rfconsole.tui.widgets.domaintable import DomainTable
from tests.tui.conftest import notifications, wait_until

SLOTS = ["rfvmA", "rfvmB", "rfvmC", "rfvmD"]


def table(app) -> DomainTable:
    return app.screen.query_one(DomainTable)


def shown_names(app) -> list[str]:
    t = table(app)
    return [str(t.get_row_at(index)[1]) for index in range(t.row_count)]


def state_of(app, name: str) -> str:
    t = table(app)
    for index in range(t.row_count):
        row = t.get_row_at(index)
        if str(row[1]) == name:
            return str(row[4])
    raise AssertionError(f"{name} is not in the table: {shown_names(app)}")


def host_state(context, name: str) -> str:
    status = next(s for s in context.fleet.statuses() if s.name == name)
    return str(getattr(status.state, "value", status.state))


async def loaded(pilot) -> None:
    await wait_until(pilot, lambda: table(pilot.app).row_count >= 4, "the demo's domains")


async def test_rftest2_vms_come_first_shut_off(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        assert isinstance(app.screen, DomainsScreen)
        assert shown_names(app)[:4] == SLOTS
        assert all(state_of(app, name) == "shut off" for name in SLOTS)
        header = app.screen.query_one("Header")
        assert "demo driver" in header.screen_sub_title, "the screen must say plainly that nothing real runs"


async def test_start_changes_the_row_in_place_then_destroy_asks_naming_domain_and_host(app, context) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        t = table(app)
        row_before = t.rows["demo/rfvmA"] if "demo/rfvmA" in t.rows else next(iter(t.rows.values()))
        await pilot.press("s")
        await wait_until(pilot, lambda: state_of(app, "rfvmA") == "running", "rfvmA running")
        assert host_state(context, "rfvmA") == "running"
        # the event changed cells of the existing row: the table was not refilled
        assert next(iter(t.rows.values())) is row_before

        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        question = app.screen.question
        assert "rfvmA" in question and "host" in question and app.screen.question.count("rfvmA") == 1
        await pilot.press("n")  # refused: nothing happens
        await pilot.pause(0.2)
        assert host_state(context, "rfvmA") == "running"

        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: state_of(app, "rfvmA") == "shut off", "rfvmA shut off")
        assert host_state(context, "rfvmA") == "shut off"


async def test_libvirt_error_is_a_notification_and_the_console_goes_on(app, context) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        context.fleet.start("rfvmA")  # behind the console's back: the row still says shut off for a moment
        await pilot.press("s")  # libvirt's refusal: it is already running
        await wait_until(pilot, lambda: any(n.severity == "error" and "rfvmA on host demo is already running" in n.message
                                            for n in app._notifications), "libvirt's refusal as an error notice")
        assert isinstance(app.screen, DomainsScreen)
        await wait_until(pilot, lambda: state_of(app, "rfvmA") == "running", "the row refreshed after the error")


async def test_a_confirmation_has_no_focused_from_its_first_frame(app) -> None:
    """Enter right after a dialog shows answers No: the focus is on No when the dialog is mounted,
    not moved there one message later (until then Yes, its first button, had it)."""
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        dialog = ConfirmDialog("Destroy rfvmA on host demo?")
        await app.push_screen(dialog)
        assert dialog.focused is not None and dialog.focused.id == "no"


def status_line(app) -> str:
    return str(app.screen.query_one("#status-line").render())


async def test_the_status_line_says_where_typed_keys_go_while_filtering(app) -> None:
    """While the filter box has the focus, letters are the filter's, not keys (r, d, v …): the
    status line says so until enter gives the table the focus back; a terminal user (or a tmux
    test) can wait for that before pressing a key."""
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("slash")
        await wait_until(pilot, lambda: "filtering (enter: to the table)" in status_line(app), "the typing mark")
        await pilot.press(*"rfvmc")
        await wait_until(pilot, lambda: "filtering 'rfvmc' (enter: to the table): 1 shown" in status_line(app), "typing")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "filter 'rfvmc': 1 shown" in status_line(app), "the filter applied")
        assert isinstance(app.focused, DomainTable) and "filtering" not in status_line(app)


async def test_filter_sort_and_bulk_start_with_progress(app, context) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"rfvmc")
        await wait_until(pilot, lambda: shown_names(app) == ["rfvmC"], "the filter to leave rfvmC")
        await pilot.press("escape")
        await wait_until(pilot, lambda: table(app).row_count >= 4, "the filter cleared")
        assert table(app).cursor_row == 2  # still on rfvmC
        await pilot.press("up", "up")

        await pilot.press("space", "space")  # select rfvmA and rfvmB (the cursor moves down)
        assert table(app).marked == {"demo/rfvmA", "demo/rfvmB"}
        await pilot.press("s")
        await wait_until(pilot, lambda: state_of(app, "rfvmA") == state_of(app, "rfvmB") == "running", "both running")
        assert host_state(context, "rfvmC") == "shut off"

        await pilot.press("o", "o", "o", "o")  # name, host, hypervisor, state
        assert table(app).sort_by == "state"
        assert shown_names(app)[:2] == ["rfvmA", "rfvmB"]  # "running" sorts before "shut off"


async def test_pause_and_resume(app, context) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: state_of(app, "rfvmA") == "running", "running")
        await pilot.press("p")
        await wait_until(pilot, lambda: state_of(app, "rfvmA") == "paused", "paused")
        await pilot.press("p")
        await wait_until(pilot, lambda: state_of(app, "rfvmA") == "running", "resumed")


async def test_undefine_keeps_the_definition_in_xml_and_the_row_to_define_again(app, context, workdir) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("down", "down", "down", "u")  # rfvmD, which has no file in XML/
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        assert "rfvmD" in app.screen.question
        await pilot.press("y")
        await wait_until(pilot, lambda: state_of(app, "rfvmD") == "undefined", "rfvmD listed as only in XML/")
        assert all(s.name != "rfvmD" for s in context.fleet.statuses())
        assert (workdir / "XML" / "rfvmD.xml").is_file()
        assert any("saved to" in n and "rfvmD.xml" in n for n in notifications(app))

        await pilot.press("f")  # define it again, from the file just saved
        await wait_until(pilot, lambda: state_of(app, "rfvmD") == "shut off", "rfvmD defined again")
        assert host_state(context, "rfvmD") == "shut off"


async def test_a_vm_only_in_xml_is_listed_and_s_defines_and_starts_it(app, context, workdir) -> None:
    from rfconsole.model.domainxml import DomainDocument
    from rfconsole.model.spec import DomainSpec, Hypervisor

    context.store.save(DomainDocument.from_spec(DomainSpec(hypervisor=Hypervisor.TEST, name="lab1", id=9)))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: "lab1" in shown_names(app), "lab1 listed")
        assert state_of(app, "lab1") == "undefined"
        table(app).move_cursor(row=shown_names(app).index("lab1"))
        await pilot.press("s")
        await wait_until(pilot, lambda: state_of(app, "lab1") == "running", "lab1 defined and started")
        assert host_state(context, "lab1") == "running"


async def test_any_xml_file_is_defined_from_the_console(app, context, workdir) -> None:
    from textual.widgets import DirectoryTree

    from rfconsole.model.domainxml import DomainDocument
    from rfconsole.model.spec import DomainSpec, Hypervisor
    from rfconsole.tui.screens.dialogs import FilePickerDialog

    (workdir / "XML" / "elsewhere").mkdir()
    path = workdir / "XML" / "elsewhere" / "other-name.xml"
    path.write_text(DomainDocument.from_spec(DomainSpec(hypervisor=Hypervisor.TEST, name="lab2", id=12)).to_xml())
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("F")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePickerDialog), "the file picker")
        app.screen.query_one(DirectoryTree).post_message(DirectoryTree.FileSelected(app.screen.query_one(DirectoryTree).root, path))
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen) and "lab2" in shown_names(app)
                         and state_of(app, "lab2") == "shut off", "lab2 defined")
        assert host_state(context, "lab2") == "shut off"


async def test_bulk_pause_skips_the_shut_off_and_resume_is_called_resume(app, context) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        context.fleet.start("rfvmB")
        context.fleet.suspend("rfvmB")
        await wait_until(pilot, lambda: state_of(app, "rfvmB") == "paused", "rfvmB paused")
        await pilot.press("space", "space")  # rfvmA (shut off) and rfvmB (paused)
        await pilot.press("p")
        await wait_until(pilot, lambda: state_of(app, "rfvmB") == "running", "rfvmB resumed")
        await wait_until(pilot, lambda: any(n.startswith("rfvmB") for n in notifications(app)), "the summary")
        # rfvmA (shut off) is skipped before anything runs, and said so; it is not tried and failed
        assert any(n.startswith("1 of 2 skipped:\nrfvmA on host demo is shut off") for n in notifications(app)), notifications(app)
        assert not any("failed" in n or "pause: rfvmA" in n for n in notifications(app)), notifications(app)


async def test_destroying_a_shut_off_vm_is_not_asked_about(app, context) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("d")  # rfvmA is shut off
        await wait_until(pilot, lambda: any("nothing to destroy" in n for n in notifications(app)), "the notice")
        assert not isinstance(app.screen, ConfirmDialog)


async def test_help_bindings_and_palette_come_from_the_one_keymap(app) -> None:
    from rfconsole.tui import keymap
    from rfconsole.tui.screens.help import HelpScreen

    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        screen = app.screen
        bound = {(key, active.binding.action) for key, active in screen.active_bindings.items()}
        for section in (keymap.DOMAINS, keymap.TABLE):
            for key in section.keys:
                if key.bound:
                    assert (key.keys.split(",")[0], key.action) in bound, key
        titles = [command.title for command in app.get_system_commands(screen)]
        for key in keymap.DOMAINS.keys + keymap.APP.keys:
            if key.bound and key.palette:
                assert f"{key.label} ({key.written})" in titles
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        shown = "\n".join(str(part.render()) for part in app.screen.query(".help-section"))
        for section in keymap.SECTIONS:
            assert section.title in shown
            for key in section.keys:
                assert key.help in shown, key


async def test_the_palette_offers_the_keys_of_the_screen_it_is_opened_on(app) -> None:
    """Over the wizard, 'Start' would have started the domain under the cursor of the table behind it."""
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "WizardScreen", "the wizard")
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Next (ctrl+n)" in titles
        assert "Start (s)" not in titles and "Destroy (d)" not in titles
        assert "Save (ctrl+s)" not in titles  # only on the review step


async def test_an_action_runs_from_the_command_palette(app, context) -> None:
    from textual.command import CommandPalette

    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"Start (s)")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: host_state(context, "rfvmA") == "running", "rfvmA started from the palette")


async def test_an_unreachable_host_is_told_once_and_the_others_still_show(workdir) -> None:
    import argparse

    from rfconsole.tui.app import RfconsoleApp
    from rfconsole.tui.launch import build_context
    from rfconsole.virt.demo import demo_uri

    # a second host whose daemon socket does not exist: libvirt refuses at once
    (workdir / "rfconsole.toml").write_text(
        f'[hosts]\nlab = "{demo_uri()}"\ngone = "qemu+unix:///system?socket=/nonexistent/libvirt-sock"\n'
    )
    context = build_context(argparse.Namespace(workdir=workdir, demo=False, connect=None))
    try:
        app = RfconsoleApp(context, poll_seconds=0)
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(pilot)
            await wait_until(pilot, lambda: any("gone" in n for n in notifications(app)), "the unreachable host told")
            told = len(notifications(app))
            app.screen.refresh_statuses()
            await pilot.pause(0.5)
            await app.workers.wait_for_complete()
            assert len(notifications(app)) == told, notifications(app)  # not again at the next poll
            assert shown_names(app)[:4] == SLOTS
    finally:
        context.fleet.close()


async def test_libvirts_thread_never_waits_for_the_ui(app, context) -> None:
    """Events are posted as Textual messages: while the UI is busy, libvirt's event-loop thread goes on
    (call_from_thread made it wait, and a lost host's notice behind it)."""
    import threading

    from rfconsole.virt.events import HostEvent

    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        event = HostEvent("demo", "test:///x", False, "the test's lost host")
        delivered = threading.Thread(target=app._from_libvirt_thread, args=(event,))
        delivered.start()
        delivered.join(timeout=5)  # the UI's loop does not run meanwhile: this test holds it
        returned = not delivered.is_alive()
        await wait_until(pilot, lambda: not delivered.is_alive(), "the event thread to finish")
        assert returned, "libvirt's thread waited for the UI"
        await wait_until(pilot, lambda: any("the test's lost host" in n for n in notifications(app)), "the lost host told")


async def test_the_image_of_a_vm_made_in_the_wizard_shows_at_once(app, context, workdir) -> None:
    from tests.tui.test_wizard import next_until, open_wizard, yes_replace_it

    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "review")
        await pilot.press("ctrl+d")  # save and define rfvmA
        await yes_replace_it(pilot)  # the demo host's rfvmA
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "back on the table")
        t = table(app)
        await wait_until(pilot, lambda: str(t.get_cell("demo/rfvmA", "image")) == "Images/h1.img", "rfvmA's image shown")


async def test_the_sorted_column_is_marked_and_the_name_in_view_at_80x24(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        t = table(app)
        labels = lambda: [str(column.label) for column in t.columns.values()]  # noqa: E731
        assert "Name" in labels()  # rftest2 order: no column marked
        await pilot.press("o")
        await wait_until(pilot, lambda: "▴Name" in labels(), "Name marked")
        await pilot.press("o", "o", "o", "o")
        await wait_until(pilot, lambda: "▾CPU%" in labels() and "▴Name" not in labels(), "CPU % marked")
        assert t.max_scroll_x == 0  # every column fits: nothing to scroll to
        assert "rfvmA" in "".join(segment.text for segment in t.render_line(1))  # the first row, Name in view


async def test_reboot_and_autostart_from_the_keyboard(app, context) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("R")  # rfvmA is shut off: nothing to reboot, said at once
        await wait_until(pilot, lambda: any("only a running domain reboots" in n for n in notifications(app)), "the notice")
        await pilot.press("s")
        await wait_until(pilot, lambda: state_of(app, "rfvmA") == "running", "rfvmA running")
        await pilot.press("R")
        await wait_until(pilot, lambda: any("reboot requested" in n for n in notifications(app)), "the reboot")
        assert host_state(context, "rfvmA") == "running"

        host = context.fleet.host("demo")
        assert not host.autostart("rfvmA")
        await pilot.press("A")
        await wait_until(pilot, lambda: host.autostart("rfvmA"), "autostart on")
        await wait_until(pilot, lambda: any("autostart on" in n for n in notifications(app)), "the notice")
        await pilot.press("A")
        await wait_until(pilot, lambda: not host.autostart("rfvmA"), "autostart off")


async def test_notifications_cover_neither_the_key_bar_nor_a_dialogs_buttons_at_80x24(app) -> None:
    from textual.widgets._toast import Toast

    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("u")  # a confirmation, then a notification over it
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        app.notify("a notification of three lines\nsecond line\nthird line", timeout=30)
        await wait_until(pilot, lambda: bool(app.screen.query(Toast)), "the notification shown")
        await pilot.pause()
        toast = app.screen.query(Toast).first().region
        buttons = [button.region for button in app.screen.query("Button")]
        keybar = app.screen_stack[-2].query_one("KeyBar").region
        assert not any(toast.overlaps(region) for region in [*buttons, keybar]), (toast, buttons, keybar)


async def test_at_80_columns_the_key_bar_takes_two_lines_and_the_title_is_whole(app) -> None:
    from textual.widgets._header import HeaderTitle

    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        bar = app.screen.query_one("KeyBar")
        text = str(bar.render())
        assert bar.region.height <= 2, text
        assert "New" in text and "Start" in text and "Help" in text  # the keys used most, and the way to all of them
        assert "Help +" in text and "rftest2" in text  # says that the help holds the keys the bar left out
        title = app.screen.query_one(HeaderTitle)
        title_text = str(title.render())
        assert "nothing real runs" in title_text and len(title_text) <= title.region.width, (title_text, title.region.width)
        await pilot.resize_terminal(200, 24)
        await wait_until(pilot, lambda: "Help +" not in str(bar.render()), "the key bar redrawn for the width")
        text = str(bar.render())
        assert "Filter" in text and "Clone" in text and bar.region.height <= 2  # wide: every key, as before



async def test_power_cycle_asks_naming_domain_and_host_then_resets(app, context) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("P")  # rfvmA is shut off: nothing to power-cycle, said at once, nothing asked
        await wait_until(pilot, lambda: any("only a running domain" in n for n in notifications(app)), "the notice")
        assert not isinstance(app.screen, ConfirmDialog)
        await pilot.press("s")
        await wait_until(pilot, lambda: state_of(app, "rfvmA") == "running", "rfvmA running")
        await pilot.press("P")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        assert "rfvmA on host demo" in app.screen.question and "hard reset" in app.screen.question
        await pilot.press("n")  # no: nothing done
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmDialog), "the dialog closed")
        assert not any("power-cycled (hard reset) on host" in n for n in notifications(app))
        await pilot.press("P")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: any("power-cycled (hard reset) on host demo" in n for n in notifications(app)), "the reset")
        assert host_state(context, "rfvmA") == "running"


def burst(app, text: str) -> None:
    """Keys arriving together, as a paste or tmux send-keys of a whole string does: all queued at once,
    before the console has handled the first."""
    from textual import events

    names = {"/": "slash", " ": "space", "*": "asterisk"}
    for character in text:
        app.post_message(events.Key(names.get(character, character), character))


async def test_keys_typed_in_a_burst_after_slash_go_to_the_filter_not_the_table(app, context) -> None:
    """Issue 17 item 7: '/shut' in one burst started rfvmC (s) and opened an Undefine dialog (u):
    the letters reached the table's bindings before the filter had the focus."""
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        table(app).move_cursor(row=2)
        burst(app, "/shut")
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        assert isinstance(app.screen, DomainsScreen), f"a dialog opened: {type(app.screen).__name__}"
        assert app.screen.query_one("#filter").value == "shut"
        assert all(host_state(context, name) == "shut off" for name in SLOTS)
        burst(app, "/")  # a '/' typed into the filter is text there
        await pilot.pause(0.1)
        assert app.screen.query_one("#filter").value == "shut/"


async def test_every_column_is_in_view_at_80_columns_and_memory_is_never_cut(app, context) -> None:
    """Issue 17 item 9: at 80 columns Switch and Image were off-screen; item 8: 16 GiB of memory
    showed as '167772' in a 6-wide MiB column."""
    from rfconsole.tui.widgets.domaintable import memory_label

    assert [memory_label(m) for m in (512, 1536, 16384, 16777216, 1048575)] == ["512M", "1.5G", "16G", "16T", "1024G"]
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        t = table(app)
        keys = [column.key.value for column in t.ordered_columns]
        assert {"name", "host", "state", "memory", "switch", "image"} <= set(keys)
        assert t.virtual_size.width <= t.scrollable_content_region.width, "the table scrolls sideways at 80 columns"
        await pilot.resize_terminal(120, 40)
        await wait_until(pilot, lambda: "spark" in [c.key.value for c in t.ordered_columns], "the wide columns")
        assert t.row_count >= 4 and t.virtual_size.width <= t.scrollable_content_region.width


async def test_home_and_end_move_the_cursor_to_the_first_and_last_row(app) -> None:
    """Issue 17 item 9: home and end scrolled the table sideways; the help says they move the cursor."""
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        t = table(app)
        await pilot.press("down", "down", "home")
        assert t.cursor_row == 0
        await pilot.press("end")
        assert t.cursor_row == t.row_count - 1


async def test_the_clone_dialog_stays_open_on_a_name_it_cannot_use(app, context, workdir) -> None:
    """Issue 17 item 9: the clone dialog closed on an invalid name (the refusal came later as a notice)."""
    from rfconsole.tui.screens.clone import CloneDialog

    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CloneDialog), "the clone dialog")
        dialog = app.screen
        for bad in ("bad name!", "rfvmB"):
            dialog.query_one("#clone-name").value = bad
            await pilot.press("enter")
            await pilot.pause(0.1)
            assert app.screen is dialog, f"the dialog closed on {bad!r}"
            error = str(dialog.query_one("#clone-error").render())
            assert error.startswith("✗") and ("already exists" in error if bad == "rfvmB" else "allowed" in error), error
        assert not list((workdir / "XML").glob("*.xml"))
        dialog.query_one("#clone-name").value = "rfvmE"
        await pilot.press("enter")
        await wait_until(pilot, lambda: (workdir / "XML" / "rfvmE.xml").is_file(), "the clone written", timeout=10)


async def test_undefining_a_running_vm_warns_it_keeps_running_as_a_transient_domain(app, context) -> None:
    """Issue 17 item 9: the confirmation did not say that libvirt keeps a running domain as a transient one."""
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        context.fleet.start("rfvmA")
        app.screen.refresh_statuses()
        await wait_until(pilot, lambda: state_of(app, "rfvmA") == "running", "rfvmA running")
        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        assert "rfvmA keeps running as a transient domain" in app.screen.warning
        await pilot.press("n")
        await pilot.press("down", "u")  # rfvmB is shut off: nothing about a transient domain
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        assert "transient" not in app.screen.warning


async def test_a_bulk_key_skips_the_rows_it_has_nothing_to_do_on_and_says_which(app, context) -> None:
    """Issue 17 item 9: with every row selected, p tried the shut-off domains and showed libvirt's
    raw refusals, while d filtered them: one rule now, one notice naming what was skipped."""
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        context.fleet.start("rfvmA")
        app.screen.refresh_statuses()
        await wait_until(pilot, lambda: state_of(app, "rfvmA") == "running", "rfvmA running")
        await pilot.press("asterisk", "p")
        await wait_until(pilot, lambda: host_state(context, "rfvmA") == "paused", "rfvmA paused")
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        assert not [n for n in app._notifications if n.severity == "error"], notifications(app)
        skipped = [n.message for n in app._notifications if n.severity == "warning"]
        assert len(skipped) == 1 and skipped[0].startswith("3 of 4 skipped:") and "rfvmB on host demo is shut off" in skipped[0], skipped


async def test_the_key_bar_never_splits_a_key_from_its_label(app) -> None:
    """At every width the bar wraps between keys, never inside one ("r" on one line, "Redeploy" on the next)."""
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        for width in range(60, 130, 3):
            await pilot.resize_terminal(width, 24)
            await pilot.pause(0.05)
            bar = app.screen.query_one("KeyBar")
            lines = [bar.render_line(y).text.rstrip() for y in range(bar.size.height)]
            shown = " ".join(lines)
            keys_of: dict[str, list[str]] = {}
            for active in app.screen.active_bindings.values():
                binding = active.binding
                if binding.show and binding.description in shown:
                    keys_of.setdefault(binding.description, []).append(app.get_key_display(binding))
            assert len(keys_of) >= 6, (width, lines)
            for label, keys in keys_of.items():
                assert any(f"{key} {label}" in line for line in lines for key in keys), (width, label, lines)
            assert all(len(line) <= bar.content_size.width + 1 for line in lines), (width, lines)
