"""The wizard on the demo host: the happy path to a running VM, and each validation error beside its field."""

from __future__ import annotations

import argparse
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from textual.widgets import Input, Label, RadioButton, TextArea

from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import preset_spec
from rfconsole.model.spec import Hypervisor
from rfconsole.store import Store, Workdir
from rfconsole.tui import wizardsupport as support
from rfconsole.tui.app import RfconsoleApp
from rfconsole.tui.launch import build_context
from rfconsole.tui.screens.dialogs import ConfirmDialog
from rfconsole.tui.screens.domains import DomainsScreen
from rfconsole.tui.screens.wizard import STEPS, WizardScreen
from tests.tui.conftest import notifications, wait_until


async def open_wizard(pilot) -> WizardScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DomainsScreen), "the home screen")
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, WizardScreen), "the wizard")
    return pilot.app.screen


def step_id(wizard: WizardScreen) -> str:
    return STEPS[wizard.step].id


def error_of(wizard: WizardScreen, field: str) -> str:
    label = wizard.query_one(f"#e-{field}", Label)
    return str(label.render()) if label.display else ""


async def answered(pilot, wizard: WizardScreen) -> None:
    """Wait until the wizard has its answers from the host (it asks on workers) and ran the keys queued meanwhile."""
    await wait_until(pilot, lambda: not wizard.asking and not wizard._queued, "the wizard's checks")


async def next_until(pilot, wizard: WizardScreen, step: str) -> None:
    while step_id(wizard) != step:
        before = wizard.step
        await pilot.press("ctrl+n")
        await answered(pilot, wizard)
        assert wizard.step == before + 1, f"stuck on {step_id(wizard)}: " + " | ".join(
            str(label.render()) for label in wizard.query(".field-error") if label.display
        )


async def yes_replace_it(pilot) -> None:
    """Answer the wizard's question before it replaces the demo host's definition of a slot."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the question before replacing the host's definition")
    await pilot.press("y")


def review_notes(wizard: WizardScreen) -> str:
    return str(wizard.query_one("#review-notes").render())


async def set_input(pilot, wizard: WizardScreen, selector: str, value: str) -> None:
    wizard.query_one(selector, Input).value = value
    await pilot.pause()


async def test_save_define_start_with_the_image_missing_is_refused_before_anything_is_saved(app, context, workdir: Path) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "review")
        await wait_until(pilot, lambda: "h1.img" in review_notes(wizard), "Review showing the missing image")
        assert "Save+define+start waits until it is there" in review_notes(wizard)  # the demo's test driver defines without it
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: any("nothing saved" in n and "h1.img" in n for n in notifications(app)), "the refusal")
        await answered(pilot, wizard)
        assert step_id(wizard) == "review" and isinstance(app.screen, WizardScreen)  # the wizard can go on
        assert not (workdir / "XML" / "rfvmA.xml").exists()
        assert next(s for s in context.fleet.statuses() if s.name == "rfvmA").state.value == "shut off"


async def test_happy_path_rfvmA_saved_defined_started(app, context, workdir: Path) -> None:
    (workdir / "Images" / "h1.img").write_bytes(b"")  # a VM is not started without its image
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "hypervisor")
        offered = [b.name for b in wizard.query(RadioButton) if b.parent.id == "f-hypervisor" and not b.disabled]
        assert offered == ["test"]  # the demo host runs the test driver only
        await next_until(pilot, wizard, "identity")
        assert wizard.query_one("#f-name", Input).value == "rfvmA"
        assert wizard.query_one("#f-id", Input).value == "1"
        await next_until(pilot, wizard, "review")
        xml = wizard.query_one("#review-xml", TextArea).text
        assert "<name>rfvmA</name>" in xml and "02:a0:a0:a0:a0:a0" in xml
        assert "follows libvirt's domain schema" in str(wizard.query_one("#review-verdict", Label).render())
        await pilot.press("ctrl+t")  # save, define and start: the demo host has an rfvmA, so it asks first
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question before replacing rfvmA")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "back on the table", timeout=10)
        saved = workdir / "XML" / "rfvmA.xml"
        assert saved.is_file()
        assert DomainDocument.read(saved).spec().hypervisor is Hypervisor.TEST
        table = app.screen.query_one("DomainTable")
        await wait_until(pilot, lambda: "demo/rfvmA" in table.rows and str(table.get_cell("demo/rfvmA", "image")) == "Images/h1.img",
                         "the Image column naming the saved file's image")  # issue 17 item 9
        await wait_until(
            pilot,
            lambda: any(s.name == "rfvmA" and str(getattr(s.state, "value", s.state)) == "running" for s in context.fleet.statuses()),
            "rfvmA running on the host",
        )


async def test_disabled_hypervisors_show_their_reason(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "hypervisor")
        disabled = {b.name for b in wizard.query(RadioButton) if b.parent.id == "f-hypervisor" and b.disabled}
        assert disabled == {"kvm", "qemu", "lxc"}
        reasons = str(wizard.query_one("#hypervisor-reasons").render())
        for name in disabled:
            assert f"{name}:" in reasons


async def test_new_vm_without_a_name_is_stopped_at_identity(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        new_vm = next(b for b in wizard.query(RadioButton) if b.name == "new")
        new_vm.value = True
        await next_until(pilot, wizard, "identity")
        await set_input(pilot, wizard, "#f-name", "")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert step_id(wizard) == "identity"
        assert "needs a name" in error_of(wizard, "name")


@pytest.mark.parametrize(
    ("step", "selector", "value", "field", "words"),
    [
        ("identity", "#f-name", "bad name!", "name", "not allowed"),
        ("identity", "#f-id", "0", "id", "from 1"),
        ("resources", "#f-vcpu", "0", "vcpu", "allows 1 to 32 vCPUs"),  # the demo host's limit
        ("resources", "#f-vcpu", "100000", "vcpu", "vCPUs"),
        ("resources", "#f-memory", "0", "memory", "MiB"),
        ("identity", "#f-id", "9" * 25, "id", "from 1 to 2147483647"),  # too large: the range is said
        ("resources", "#f-vcpu", "9" * 25, "vcpu", "allows 1 to 32 vCPUs"),
        ("resources", "#f-memory", "9" * 25, "memory", "from 1 to 16777216"),
        ("storage", "#f-image", "/" + "a" * 300, "image", "at most 255"),  # (a relative path is the working folder's)
    ],
)
async def test_each_field_error_shows_beside_its_field(app, step, selector, value, field, words) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, step)
        await set_input(pilot, wizard, selector, value)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert step_id(wizard) == step
        assert words in error_of(wizard, field)


async def test_bad_mac_is_shown_under_the_network_step(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "network")
        wizard.query(".nic-mac").first(Input).value = "02:zz:00:00:00:01"
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert step_id(wizard) == "network"
        assert "MAC" in error_of(wizard, "interfaces")


async def test_name_and_id_already_in_XML_are_refused(app, workdir: Path) -> None:
    store = Store(Workdir(workdir))
    store.save(DomainDocument.from_spec(preset_spec("rfvmA", Hypervisor.TEST, store.workdir).with_changes(id=5)))
    store.save(DomainDocument.from_spec(preset_spec("rfvmB", Hypervisor.TEST, store.workdir).with_changes(id=1)))
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "identity")
        await set_input(pilot, wizard, "#f-id", "1")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert step_id(wizard) == "identity"
        assert "rfvmA.xml" in error_of(wizard, "name")
        assert "rfvmB.xml" in error_of(wizard, "id") and "id 1" in error_of(wizard, "id")


async def test_back_keeps_what_was_typed(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "resources")
        await set_input(pilot, wizard, "#f-memory", "1024")
        await pilot.press("ctrl+b", "ctrl+b")
        assert step_id(wizard) == "identity"
        await next_until(pilot, wizard, "resources")
        assert wizard.query_one("#f-memory", Input).value == "1024"


async def test_keys_faster_than_the_screen_draws_still_save(app, workdir: Path) -> None:
    """Typed ahead (as in tmux): Next before the network rows have drawn their fields must not crash."""
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "the home screen")
        await pilot.press("n", *["ctrl+n"] * 7, "ctrl+s")
        await wait_until(pilot, lambda: (workdir / "XML" / "rfvmA.xml").is_file(), "the file saved", timeout=10)
        assert "02:a4:a4:a4:a4:a4" in (workdir / "XML" / "rfvmA.xml").read_text()  # every rftest2 NIC kept


async def choose_target(pilot, wizard: WizardScreen, target: str) -> None:
    while step_id(wizard) != "target":
        await pilot.press("ctrl+b")
    next(b for b in wizard.query(RadioButton) if b.name == target).value = True
    await pilot.pause()


async def test_another_target_keeps_the_resources_the_user_edited(app, workdir: Path) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "resources")
        await set_input(pilot, wizard, "#f-memory", "1024")
        await choose_target(pilot, wizard, "rfvmB")
        await next_until(pilot, wizard, "storage")
        assert wizard.query_one("#f-name", Input).value == "rfvmB"
        assert wizard.query_one("#f-memory", Input).value == "1024"  # edited: kept
        assert wizard.query_one("#f-vcpu", Input).value == "1"  # not edited: the new defaults
        assert wizard.query_one("#f-image", Input).value == str(workdir / "Images" / "h2.img")
        assert any("kept your memory" in message for message in notifications(app))


async def test_rfvmE_is_offered_with_rftest2s_naming_as_xml_new_gives_it(app, workdir: Path) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        targets = [button.name for button in wizard.query(RadioButton) if button.parent.id == "f-target"]
        assert targets == ["rfvmA", "rfvmB", "rfvmC", "rfvmD", "rfvmE", "rfvmF", "new"]
        await choose_target(pilot, wizard, "rfvmE")
        await next_until(pilot, wizard, "identity")
        assert (wizard.query_one("#f-name", Input).value, wizard.query_one("#f-id", Input).value) == ("rfvmE", "5")
        await next_until(pilot, wizard, "review")
        xml = wizard.query_one("#review-xml", TextArea).text
    expected = DomainDocument.from_spec(preset_spec("rfvmE", Hypervisor.TEST, Workdir(workdir)))
    assert DomainDocument.parse(xml).spec().interfaces == expected.spec().interfaces  # the preset's NICs
    assert str(Workdir(workdir).image("h5.img")) in xml and "rfvmE.4" in xml


async def test_an_edit_invalid_for_the_new_choice_is_reset_and_said(app, workdir: Path) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "storage")
        await set_input(pilot, wizard, "#f-image", str(workdir / "Images"))  # a folder: for LXC only
        await choose_target(pilot, wizard, "rfvmC")
        await next_until(pilot, wizard, "storage")
        assert wizard.query_one("#f-image", Input).value == str(workdir / "Images" / "h3.img")
        said = " ".join(notifications(app))
        assert "image reset" in said and "not a folder" in said


def test_a_hypervisor_change_keeps_valid_edits_and_names_the_invalid_ones(workdir: Path) -> None:
    qemu_defaults = preset_spec("rfvmA", Hypervisor.QEMU, workdir)
    kept, reset = support.merge_edits(qemu_defaults, {"memory": "2048", "image": str(workdir / "Images")})
    assert kept == {"memory": "2048"}
    assert [problem.field for problem in reset] == ["image"]
    assert "qemu VM needs a disk image file, not a folder" in reset[0].message


async def test_f1_opens_help_on_a_typing_field_with_the_wizard_keys_first(app) -> None:
    from rfconsole.tui.screens.help import HelpScreen

    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "identity")  # the name field has the focus: '?' is text here
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        first_section = str(app.screen.query(".help-section").first().render())
        assert first_section.startswith("This screen: Wizard") and "ctrl+n" in first_section
        await pilot.press("escape")
        assert app.screen is wizard


async def test_rftest2_bring_up_key_does_not_open_over_the_wizard(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot)  # the focus is on the target choice: 'a' is no text there
        await pilot.press("a")
        await pilot.pause()
        assert app.screen is wizard


async def test_the_wizard_asks_the_host_only_off_the_ui_thread(app, monkeypatch) -> None:
    """Capabilities, the vCPU limit and name checks are libvirt calls: a dead host must not freeze the UI."""
    import threading

    from rfconsole.virt.host import Host

    on_ui_thread: list[str] = []
    real_call, real_connect = Host._call, Host._connect

    def recording_call(self, doing, function, *args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            on_ui_thread.append(doing)
        return real_call(self, doing, function, *args, **kwargs)

    def recording_connect(self):  # every libvirt call of Host begins here (lookups, capabilities, limits)
        if threading.current_thread() is threading.main_thread():
            on_ui_thread.append("the connection")
        return real_connect(self)

    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await app.workers.wait_for_complete()
        monkeypatch.setattr(Host, "_call", recording_call)  # spies: every call still reaches libvirt
        monkeypatch.setattr(Host, "_connect", recording_connect)
        for step in STEPS[1:]:
            app.context.fleet.host("demo")._capabilities = None  # read afresh at each step, as on a first wizard
            await next_until(pilot, wizard, step.id)
        while step_id(wizard) != "os":  # back runs no check: entering a step asks the host by itself
            app.context.fleet.host("demo")._capabilities = None
            await pilot.press("ctrl+b")
            await answered(pilot, wizard)
        assert on_ui_thread == []
        assert wizard.query_one("#f-arch").value == "i686"  # the OS step's host question was asked, off the UI thread


@contextmanager
def host_that_stops_answering() -> Iterator[tuple[str, Callable[[], None]]]:
    """A host whose daemon takes connections and never answers, until ``gone()`` takes it away:
    libvirt's own client waits on it, then fails as on a host that went down (nothing stubbed)."""
    listener = socket.create_server(("127.0.0.1", 0))
    taken: list[socket.socket] = []

    def take() -> None:
        while True:
            try:
                taken.append(listener.accept()[0])
            except OSError:  # gone
                return

    def gone() -> None:
        listener.shutdown(socket.SHUT_RDWR)  # wakes accept(); then every connection is refused
        listener.close()
        for connection in taken:
            connection.close()  # the client waiting on it reads "connection reset by peer"

    threading.Thread(target=take, daemon=True).start()
    try:
        yield f"qemu+tcp://127.0.0.1:{listener.getsockname()[1]}/system", gone
    finally:
        if listener.fileno() != -1:
            gone()


async def test_a_host_question_that_fails_is_told_and_the_keys_pressed_meanwhile_still_run(workdir: Path) -> None:
    """The host goes away while the wizard asks it: a notification naming what was asked, never a
    crash, and a key pressed while waiting (here Back) runs once the question is answered."""
    with host_that_stops_answering() as (uri, gone):
        context = build_context(argparse.Namespace(workdir=workdir, demo=False, connect=uri))
        app = RfconsoleApp(context, poll_seconds=0)
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                wizard = await open_wizard(pilot)
                await pilot.press("ctrl+n")
                await wait_until(pilot, lambda: step_id(wizard) == "hypervisor" and wizard.asking == 1, "the hypervisor step asking the host")
                await pilot.press("ctrl+b")  # waits for the answer
                assert step_id(wizard) == "hypervisor" and wizard._queued == ["back"]
                gone()
                await wait_until(pilot, lambda: not wizard.asking and not wizard._queued, "the failed question and the queued key", timeout=10)
                assert step_id(wizard) == "target"
                told = [n for n in app._notifications if n.title == f"reading the hypervisors of host {uri}"]
                assert len(told) == 1 and uri in told[0].message, [(n.title, n.message) for n in app._notifications]
        finally:
            context.fleet.close()


async def test_a_nic_error_names_the_nic_as_the_screen_does_and_wraps_at_80_columns(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "network")
        wizard.query(".nic-mac").first(Input).value = "not a mac address at all, typed by a user who did not know"
        await pilot.press("ctrl+n")
        await answered(pilot, wizard)
        label = wizard.query_one("#e-interfaces", Label)
        text = str(label.render())
        assert "eth0 MAC:" in text and "interfaces.0" not in text
        assert label.region.right <= 80 and label.region.height > 1  # wrapped, not cut at the edge


async def test_typed_letters_and_relative_images_are_not_dropped_or_refused(app, workdir) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "identity")
        await pilot.click("#f-id")
        wizard.query_one("#f-id", Input).value = ""
        await pilot.press(*"7x")
        assert wizard.query_one("#f-id", Input).value == "7x"  # kept as typed, not silently dropped
        await pilot.press("ctrl+n")
        await answered(pilot, wizard)
        assert step_id(wizard) == "identity" and "whole number" in error_of(wizard, "id")
        wizard.query_one("#f-id", Input).value = "7"
        await next_until(pilot, wizard, "storage")
        wizard.query_one("#f-image", Input).value = "Images/h1.img"  # as the table shows it
        await next_until(pilot, wizard, "review")
        assert f"{workdir}/Images/h1.img" in wizard.query_one("#review-xml", TextArea).text


async def test_a_nic_can_be_put_on_a_libvirt_network(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "network")
        wizard.query(".nic-bridge").first(Input).value = "network:default"
        await next_until(pilot, wizard, "review")
        xml = wizard.query_one("#review-xml", TextArea).text
        assert "<source network=\"default\"/>" in xml or "<source network='default'/>" in xml, xml


async def test_a_vcpu_count_out_of_range_is_told_with_the_hosts_limit(app, context) -> None:
    limit = context.fleet.host("demo").max_vcpus()
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "resources")
        for typed in ("100000", "0"):
            wizard.query_one("#f-vcpu", Input).value = typed
            await pilot.press("ctrl+n")
            await answered(pilot, wizard)
            assert step_id(wizard) == "resources"
            assert f"allows 1 to {limit} vCPUs" in error_of(wizard, "vcpu") and "4096" not in error_of(wizard, "vcpu")


async def test_the_architectures_are_the_hosts_for_the_hypervisor(app, context) -> None:
    """The demo's test driver runs i686 guests only: the wizard offers that, not every arch libvirt
    knows, and the VM is written with it."""
    from textual.widgets import Select

    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "os")
        await answered(pilot, wizard)
        from textual.widgets.select import InvalidSelectValueError

        select = wizard.query_one("#f-arch", Select)
        assert select.value == "i686"
        with pytest.raises(InvalidSelectValueError):  # not one of the choices any more
            select.value = "x86_64"
        assert "what host demo runs for test guests" in str(wizard.query_one("#h-arch", Label).render())
        await next_until(pilot, wizard, "review")
        assert "arch=\"i686\"" in wizard.query_one("#review-xml", TextArea).text


def test_arch_choices_come_from_the_host_and_fall_back_to_libvirts_only_without_one(context) -> None:
    from rfconsole.model.kinds import Arch

    demo = support.arch_choices(context, "demo", Hypervisor.TEST)
    assert demo.archs == ("i686",)
    nowhere = support.arch_choices(context, None, Hypervisor.TEST)
    assert nowhere.archs == tuple(arch.value for arch in Arch) and "no host chosen" in nowhere.note


@pytest.mark.parametrize("answer", ["n", "y"])
async def test_a_name_the_host_has_is_replaced_only_after_asking_naming_what_is_lost(app, context, workdir: Path, answer) -> None:
    """issue 17 item 1: the rfvmE slot given the name of a domain the host has (here the demo's
    rfvmB, 4 vCPU would become rfvmE's) replaced the host's definition on ctrl+d without a word."""
    before = context.fleet.status("rfvmB")
    definition_before = context.fleet.live_xml("rfvmB")
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await choose_target(pilot, wizard, "rfvmE")
        await next_until(pilot, wizard, "identity")
        await set_input(pilot, wizard, "#f-name", "rfvmB")
        await next_until(pilot, wizard, "review")
        await wait_until(pilot, lambda: "replaces host demo's definition of rfvmB" in review_notes(wizard), "Review naming the replace")
        await pilot.press("ctrl+d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        question = str(app.screen.query_one("#question").render()) + str(app.screen.query_one("#warning").render())
        assert "Replace rfvmB on host demo?" in question and f"{before.memory_mib} MiB" in question and "shut off" in question
        await pilot.press(answer)
        if answer == "n":
            await answered(pilot, wizard)
            assert app.screen is wizard and not (workdir / "XML" / "rfvmB.xml").exists()
            assert context.fleet.live_xml("rfvmB") == definition_before
        else:
            await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "back on the table", timeout=10)
            assert (workdir / "XML" / "rfvmB.xml").is_file()
            now = context.fleet.live_xml("rfvmB")
            assert now != definition_before and "02:e0:e0:e0:e0:e0" in now and "02:b0:b0:b0:b0:b0" not in now  # rfvmE's NICs, not rfvmB's


async def test_review_shows_every_problem_and_a_refusal_leaves_the_wizard_able_to_go_on(app, context, workdir: Path) -> None:
    """issue 17 item 2: Review said only '✓ follows libvirt's schema' (no missing kernel, 16 TiB
    accepted); ctrl+d refused but had written XML/NAME.xml, Back/Next then failed 'already exists'
    and escape said 'nothing saved to XML/ yet'."""
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await choose_target(pilot, wizard, "new")
        await next_until(pilot, wizard, "identity")
        await set_input(pilot, wizard, "#f-name", "big")
        await next_until(pilot, wizard, "os")
        wizard.query_one("#f-kernel-on").value = True
        await pilot.pause()
        await set_input(pilot, wizard, "#f-kernel", str(workdir / "no-such-kernel"))
        await next_until(pilot, wizard, "resources")
        await set_input(pilot, wizard, "#f-memory", str(16 * 1024 * 1024))  # 16 TiB
        await next_until(pilot, wizard, "review")
        await wait_until(pilot, lambda: "no-such-kernel" in review_notes(wizard), "Review naming the missing kernel")
        notes = review_notes(wizard)
        assert "kernel" in notes and "does not exist" in notes
        assert "memory 16777216 MiB is more than host demo has" in notes
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: any("nothing saved" in n for n in notifications(app)), "the refusal")
        await answered(pilot, wizard)
        assert not (workdir / "XML" / "big.xml").exists() and not context.fleet.has_domain("big")
        await pilot.press("ctrl+b")  # Back and Next still work: nothing was half-done
        await answered(pilot, wizard)
        assert step_id(wizard) == "network"
        await next_until(pilot, wizard, "review")
        assert "nothing saved to XML/ yet" in wizard.unsaved_work()
        await pilot.press("ctrl+s")  # a plain save is fine
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "back on the table", timeout=10)
        assert (workdir / "XML" / "big.xml").is_file()


async def test_the_save_button_saves(app, workdir: Path) -> None:
    """issue 17 item 3: 'Save ^s' did nothing (two methods called _save; the second won)."""
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await choose_target(pilot, wizard, "rfvmE")
        await next_until(pilot, wizard, "review")
        await pilot.click("#save")
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "back on the table", timeout=10)
        assert (workdir / "XML" / "rfvmE.xml").is_file()
