"""SVG snapshots of each screen (pytest-textual-snapshot). Deterministic: the demo driver with every VM
shut off, no polling timer, no clock, and a working folder of its own for each run (so two runs can share
a machine) whose path is drawn as the same fixed text every time. Update with --snapshot-update."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import textual._doc

from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import preset_spec
from rfconsole.model.spec import Hypervisor
from rfconsole.tui.app import RfconsoleApp
from rfconsole.tui.launch import build_context

# The working folder as the snapshots show it. Each run works in a folder of its own, /tmp/rfsnapshot-XXXXXXXX
# (mkdtemp's 8 random characters), as long as this text, so the screen's layout is the same either way.
SHOWN_WORKDIR = "/tmp/rfconsole-snapshots"


@pytest.fixture
def snap_workdir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="rfsnapshot-", dir="/tmp"))
    assert len(str(folder)) == len(SHOWN_WORKDIR), f"{folder} must be as long as {SHOWN_WORKDIR}"
    try:
        (folder / "XML").mkdir()
        (folder / "Images").mkdir()
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def snap_compare(snap_compare, snap_workdir: Path, monkeypatch: pytest.MonkeyPatch):
    """pytest-textual-snapshot's compare, with this run's folder drawn as SHOWN_WORKDIR."""
    take_screenshot = textual._doc.take_svg_screenshot

    def screenshot(*args, **kwargs) -> str:
        return take_screenshot(*args, **kwargs).replace(str(snap_workdir), SHOWN_WORKDIR)

    monkeypatch.setattr(textual._doc, "take_svg_screenshot", screenshot)
    return snap_compare


@pytest.fixture
def snap_app(snap_workdir: Path) -> Iterator[RfconsoleApp]:
    context = build_context(argparse.Namespace(workdir=snap_workdir, demo=True, connect=None))
    try:
        yield RfconsoleApp(context, poll_seconds=0)
    finally:
        context.fleet.close()


async def _settle(pilot) -> None:
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.1)
    _still_cursors(pilot.app)


def _after(*keys: str):
    """run_before: settle, press ``keys``, settle again (so the new screen's cursors are still)."""

    async def run_before(pilot) -> None:
        await _settle(pilot)
        await pilot.press(*keys)
        await _settle(pilot)

    return run_before


def _still_cursors(app) -> None:
    """A blinking cursor is on or off by the clock: stop it so every run draws the same."""
    for widget in app.screen.query("Input, TextArea"):
        widget.cursor_blink = False


def test_domains(snap_app, snap_compare) -> None:
    assert snap_compare(snap_app, terminal_size=(120, 30), run_before=_settle)


def test_domains_80x24_light(snap_app, snap_compare) -> None:
    async def light(pilot) -> None:
        await _settle(pilot)
        await pilot.press("t")

    assert snap_compare(snap_app, terminal_size=(80, 24), run_before=light)


def test_help(snap_app, snap_compare) -> None:
    assert snap_compare(snap_app, terminal_size=(100, 40), run_before=_after("question_mark"))


def test_confirm_undefine(snap_app, snap_compare) -> None:
    """(Destroying a shut-off VM is not asked about: every demo VM is shut off.)"""
    assert snap_compare(snap_app, terminal_size=(100, 30), run_before=_after("u"))


def test_wizard_first_step(snap_app, snap_compare) -> None:
    assert snap_compare(snap_app, terminal_size=(100, 30), run_before=_after("n"))


def test_wizard_hypervisor_step(snap_app, snap_compare) -> None:
    assert snap_compare(snap_app, terminal_size=(100, 30), run_before=_after("n", "ctrl+n"))


def test_wizard_identity_error(snap_app, snap_compare) -> None:
    async def bad_name(pilot) -> None:
        await _settle(pilot)
        await pilot.press("n", "ctrl+n", "ctrl+n")
        pilot.app.screen.query_one("#f-name").value = "bad name!"
        await pilot.press("ctrl+n")
        await pilot.pause()
        _still_cursors(pilot.app)

    assert snap_compare(snap_app, terminal_size=(100, 30), run_before=bad_name)


def test_wizard_review(snap_app, snap_compare) -> None:
    keys = ["n"] + ["ctrl+n"] * 7
    assert snap_compare(snap_app, terminal_size=(100, 40), run_before=_after(*keys))


def test_xml_view(snap_app, snap_compare) -> None:
    """Of the file in XML/: libvirt's live XML holds a UUID the test driver draws anew each run."""
    store = snap_app.context.store
    store.save(DomainDocument.from_spec(preset_spec("rfvmA", Hypervisor.TEST, store.workdir).with_changes(id=1)))

    async def open_xml(pilot) -> None:
        await _settle(pilot)
        await pilot.press("x")
        await _settle(pilot)

    assert snap_compare(snap_app, terminal_size=(100, 30), run_before=open_xml)


def test_bringup(snap_app, snap_compare) -> None:
    assert snap_compare(snap_app, terminal_size=(120, 30), run_before=_after("a"))


def test_wizard_identity_80x24(snap_app, snap_compare) -> None:
    assert snap_compare(snap_app, terminal_size=(80, 24), run_before=_after("n", "ctrl+n", "ctrl+n"))


def test_domains_120x40(snap_app, snap_compare) -> None:
    assert snap_compare(snap_app, terminal_size=(120, 40), run_before=_settle)


def test_clone_dialog_80x24(snap_app, snap_compare) -> None:
    assert snap_compare(snap_app, terminal_size=(80, 24), run_before=_after("c"))


def test_clone_dialog_120x40(snap_app, snap_compare) -> None:
    assert snap_compare(snap_app, terminal_size=(120, 40), run_before=_after("c"))
