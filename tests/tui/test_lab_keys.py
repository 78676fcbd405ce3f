"""Snapshot, reset and clone from the domains table (demo driver; real qemu-img for the clone's overlay)."""

from __future__ import annotations

import subprocess

from rfconsole.images import Images
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import preset_spec
from rfconsole.model.spec import Hypervisor
from rfconsole.store import Store, Workdir
from rfconsole.tui.screens.clone import CloneDialog
from rfconsole.tui.screens.dialogs import ConfirmDialog
from tests.tui.conftest import notifications, wait_until
from tests.tui.test_domains import loaded, state_of


async def test_z_takes_a_snapshot_then_b_resets_after_a_confirmation_naming_what_is_lost(app, context) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("z")
        await wait_until(pilot, lambda: len(context.fleet.snapshot_list("rfvmA", host="demo")) == 1, "a snapshot of rfvmA")
        await pilot.press("s")
        await wait_until(pilot, lambda: state_of(app, "rfvmA") == "running", "rfvmA running")

        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        assert app.screen.question == "Reset rfvmA on host demo?"
        assert "wrote since its snapshot" in app.screen.warning and "is lost" in app.screen.warning
        await pilot.press("n")
        await pilot.pause(0.2)
        assert state_of(app, "rfvmA") == "running"

        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: any("rfvmA: reverted to snapshot snap-" in n for n in notifications(app)), "the reset's notification")
        # the snapshot was taken shut off: reset reverts to it and starts the domain
        await wait_until(pilot, lambda: state_of(app, "rfvmA") == "running", "rfvmA running after the reset")


async def test_c_clones_rfvmA_as_rfvmE_with_its_own_overlay(app, context, workdir) -> None:
    folder = Workdir(workdir)
    source = workdir / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(source), "16M"], check=True)
    images = Images(folder)
    base, _ = images.register_base(source)
    overlay, _ = images.create_overlay(base, folder.image("h1.qcow2"))
    Store(folder).save(DomainDocument.from_spec(preset_spec("rfvmA", Hypervisor.TEST, folder, image=overlay)))

    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CloneDialog), "the clone dialog")
        assert app.screen.suggestion == "rfvmE"
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("rfvmE (id 5) cloned from rfvmA" in n for n in notifications(app)), "the clone's notification")
    clone = Store(folder).load("rfvmE").spec()
    assert clone.image == folder.image("h5.qcow2") and folder.image("h5.qcow2").exists()


async def test_a_domain_without_xml_is_cloned_from_its_host_definition_and_a_clash_is_refused(app, context) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("down", "c")  # rfvmB: the demo host has it, XML/ does not
        await wait_until(pilot, lambda: isinstance(app.screen, CloneDialog), "the clone dialog")
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("rfvmE (id 5) cloned from rfvmB" in n for n in notifications(app)), "the clone")
        assert [nic.mac for nic in context.store.load("rfvmE").spec().interfaces][0] == "02:e0:e0:e0:e0:e0"

        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CloneDialog), "the clone dialog")
        assert app.screen.suggestion == "rfvmF"  # rfvmE is taken now
        app.screen.query_one("Input").value = "rfvmC"
        await pilot.press("enter")
        # refused in the dialog, which stays open saying why (issue 17 item 9)
        await wait_until(pilot, lambda: isinstance(app.screen, CloneDialog)
                         and "rfvmC already exists" in str(app.screen.query_one("#clone-error").render()), "the refusal")
        assert not (context.store.xml_dir / "rfvmC.xml").exists()


async def test_l_lists_the_snapshots_and_reverts_or_deletes_after_a_confirmation(app, context) -> None:
    from rfconsole.tui.screens.snapshots import SnapshotsScreen

    context.fleet.snapshot_create("rfvmA", "clean", host="demo")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: state_of(app, "rfvmA") == "running", "rfvmA running")
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, SnapshotsScreen) and len(app.screen.snapshots) == 1, "the snapshots screen")
        await pilot.press("n")  # a second one, taken running
        await wait_until(pilot, lambda: len(app.screen.snapshots) == 2, "the new snapshot listed")
        assert app.screen.snapshots[1].state == "running" and app.screen.snapshots[1].current

        await pilot.press("r")  # the cursor on the first row: back to 'clean', taken shut off
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        assert app.screen.question == "Revert rfvmA on host demo to snapshot clean?"
        assert "Everything rfvmA wrote since clean was taken is lost" in app.screen.warning
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, SnapshotsScreen) and app.screen.snapshots and app.screen.snapshots[0].current,
                         "clean current again")
        assert not context.fleet.is_running("rfvmA", host="demo")

        await pilot.press("down", "d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        assert app.screen.question.startswith("Delete snapshot snap-") and "of rfvmA on host demo" in app.screen.question
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, SnapshotsScreen) and len(app.screen.snapshots) == 1, "one left")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, SnapshotsScreen), "back to the table")


async def test_the_wizard_gives_rfvmA_an_overlay_of_a_base(app, context, workdir) -> None:
    from textual.widgets import Input, Select

    from rfconsole.images import image_info
    from rfconsole.tui.screens.domains import DomainsScreen
    from tests.tui.test_wizard import next_until, open_wizard, yes_replace_it

    source = workdir / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(source), "16M"], check=True)
    base, _ = Images(Workdir(workdir)).register_base(source)
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "storage")
        wizard.query_one("#f-base", Select).value = str(base)
        await wait_until(pilot, lambda: wizard.query_one("#f-image", Input).value.endswith("h1.qcow2"), "the overlay path")
        await next_until(pilot, wizard, "review")
        await pilot.press("ctrl+t")  # save (the overlay first), define and start
        await yes_replace_it(pilot)  # the demo host's rfvmA
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "back on the table", timeout=10)
    overlay = workdir / "Images" / "h1.qcow2"
    assert image_info(overlay).backing == base and image_info(overlay).backing_text == "base/tiny.qcow2"
    assert Store(Workdir(workdir)).load("rfvmA").spec().image == overlay


async def test_the_wizard_never_makes_an_overlay_over_a_file(app, context, workdir) -> None:
    from textual.widgets import Select

    from tests.tui.test_wizard import next_until, open_wizard

    source = workdir / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(source), "16M"], check=True)
    base, _ = Images(Workdir(workdir)).register_base(source)
    (workdir / "Images" / "h1.qcow2").write_bytes(b"rfvmA's work")
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "storage")
        wizard.query_one("#f-base", Select).value = str(base)
        await pilot.pause()
        await next_until(pilot, wizard, "review")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any("not creating an overlay over it" in n for n in notifications(app)), "the refusal")
    assert (workdir / "Images" / "h1.qcow2").read_bytes() == b"rfvmA's work"
    assert not (workdir / "XML" / "rfvmA.xml").exists()


async def test_the_details_of_a_vm_list_its_snapshots(app, context) -> None:
    from rfconsole.tui.screens.vmdetails import VmDetailsScreen
    from tests.tui.test_vm_details import _all_text

    context.fleet.snapshot_create("rfvmA", "clean", host="demo", description="fresh")
    async with app.run_test(size=(160, 60)) as pilot:
        await loaded(pilot)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, VmDetailsScreen) and app.screen.details is not None, "the details")
        text = _all_text(app.screen)
        assert "Snapshots (l on the table" in text and "clean" in text and "shutoff" in text
        context.fleet.snapshot_create("rfvmA", "second", host="demo")
        await pilot.press("ctrl+r")  # the details' refresh
        await wait_until(pilot, lambda: "second" in _all_text(app.screen), "the new snapshot in the details")


async def test_c_adds_rfvmEs_rows_to_the_routeflow_csv_rfconsole_toml_names(workdir) -> None:
    import argparse

    from rfconsole.tui.app import RfconsoleApp
    from rfconsole.tui.launch import build_context

    (workdir / "rfconsole.toml").write_text('[ondemand]\nrouteflow_config = "rftest2.csv"\n')
    csv_file = workdir / "rftest2.csv"
    csv_file.write_text("vm_id,vm_port,ct_id,dp_id,dp_port\n2A0A0A0A0A0,1,0,5,1\n")
    context = build_context(argparse.Namespace(workdir=workdir, demo=True, connect=None))
    app = RfconsoleApp(context, poll_seconds=0)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(pilot)
            await pilot.press("down", "c")  # rfvmB, from its host definition
            await wait_until(pilot, lambda: isinstance(app.screen, CloneDialog), "the clone dialog")
            assert app.screen.query_one("#clone-rows").value  # offered, and on
            await pilot.press("enter")
            await wait_until(pilot, lambda: any(f"added 3 rows to {csv_file}" in n for n in notifications(app)), f"the clone's rows: {notifications(app)}", timeout=10)
            assert csv_file.read_text().splitlines()[-3:] == [f"2E0E0E0E0E0,{port},0,9,{port}" for port in range(1, 4)]

            await pilot.press("c")
            await wait_until(pilot, lambda: isinstance(app.screen, CloneDialog), "the clone dialog")
            app.screen.query_one("Input").value = "lab7"
            await pilot.press("enter")
            await wait_until(pilot, lambda: any("its rows were not added" in n and "lab7 serves is not known" in n for n in notifications(app)), "lab7's note", timeout=10)
            assert "02:" not in csv_file.read_text().splitlines()[-1] and len(csv_file.read_text().splitlines()) == 5
    finally:
        context.fleet.close()
