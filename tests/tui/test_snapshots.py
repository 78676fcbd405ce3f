"""SVG snapshots of each screen (pytest-textual-snapshot). Deterministic: the demo driver with every VM
shut off, a fixed working folder path, no polling timer, no clock. Update with --snapshot-update."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import preset_spec
from rfconsole.model.spec import Hypervisor
from rfconsole.tui.app import RfconsoleApp
from rfconsole.tui.launch import build_context

FIXED_WORKDIR = Path("/tmp/rfconsole-snapshots")  # shown on screen: must not vary between runs


@pytest.fixture
def snap_app() -> Iterator[RfconsoleApp]:
    shutil.rmtree(FIXED_WORKDIR, ignore_errors=True)
    (FIXED_WORKDIR / "XML").mkdir(parents=True)
    (FIXED_WORKDIR / "Images").mkdir()
    context = build_context(argparse.Namespace(workdir=FIXED_WORKDIR, demo=True, connect=None))
    try:
        yield RfconsoleApp(context, poll_seconds=0)
    finally:
        context.fleet.close()
        shutil.rmtree(FIXED_WORKDIR, ignore_errors=True)


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


def test_confirm_destroy(snap_app, snap_compare) -> None:
    assert snap_compare(snap_app, terminal_size=(100, 30), run_before=_after("d"))


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
