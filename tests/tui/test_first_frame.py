"""What the console does before its first frame stays small (docs/architecture.md, "The first frame").
Structural checks only: speed itself is measured in bench/tui.py."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from textual.screen import Screen
from textual.widgets import Label

from rfconsole.errors import RfconsoleError
from rfconsole.tui import launch
from rfconsole.tui.app import RfconsoleApp
from rfconsole.tui.launch import build_context, run_app
from rfconsole.tui.screens.domains import READING, DomainsScreen
from rfconsole.tui.styles import APP_STYLESHEETS, STYLESHEETS
from rfconsole.tui.widgets.domaintable import DomainTable
from tests.tui.conftest import notifications, wait_until


def _all_screen_classes() -> list[type[Screen]]:
    import importlib
    import pkgutil

    import rfconsole.tui.screens

    for module in pkgutil.iter_modules(rfconsole.tui.screens.__path__):  # every screen module, so every class is known
        importlib.import_module(f"rfconsole.tui.screens.{module.name}")

    found, todo = [], [Screen]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("rfconsole."):
                found.append(sub)
    return found


def _loaded_sheets(app: RfconsoleApp) -> set[str]:
    return {Path(read_from[0]).name for read_from in app.stylesheet.source if read_from[0].endswith(".tcss")}


def test_every_stylesheet_is_the_apps_or_named_by_a_screen() -> None:
    named = {Path(path).name for screen in _all_screen_classes() for path in _css_paths(screen)}
    assert set(STYLESHEETS) - set(APP_STYLESHEETS) <= named, "a stylesheet no screen loads would never apply"
    assert not named & set(APP_STYLESHEETS), "the app's own sheets are loaded once, by the app"


def _css_paths(screen: type[Screen]) -> list:
    paths = screen.__dict__.get("CSS_PATH") or []
    return paths if isinstance(paths, list) else [paths]


async def test_only_the_shell_and_home_sheets_are_read_before_the_first_frame_and_a_screen_brings_its_own(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.screen.query("DomainTable"), "the home screen")
        assert _loaded_sheets(app) == set(APP_STYLESHEETS)
        await pilot.press("n")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "WizardScreen", "the wizard")
        assert "wizard.tcss" in _loaded_sheets(app)
        assert "xml.tcss" not in _loaded_sheets(app)


# ---- the first frame before the fleet ----------------------------------------------------------

class Painted:
    """Records, over ``App._display`` (Textual's one way to the terminal), whether a frame of the
    home screen has been written yet (headless, Textual computes the frame and skips only the write)."""

    def __init__(self, app: RfconsoleApp) -> None:
        self.app = app
        self.frames = 0
        self.first_text = ""  # what the first frame wrote (escape sequences and all)
        self._display = app._display
        app._display = self._probe

    def _probe(self, screen, renderable) -> None:
        if renderable is not None and not self.app._batch_count and type(screen).__name__ == "DomainsScreen":
            self.frames += 1
            if self.frames == 1:
                self.first_text = renderable.render_segments(self.app.console)
        self._display(screen, renderable)


def _opener(workdir: Path, release: threading.Event, seen: dict):
    def open_it():
        seen["frames_before_opening"] = seen["painted"].frames
        assert release.wait(30), "the test never let the opening finish"
        return build_context(argparse.Namespace(workdir=workdir, demo=True, connect=None))

    return open_it


async def test_the_home_screen_is_painted_before_the_fleet_is_opened_and_says_it_is_reading(workdir) -> None:
    release, seen = threading.Event(), {}
    app = RfconsoleApp(_opener(workdir, release, seen), poll_seconds=0)
    seen["painted"] = Painted(app)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: "frames_before_opening" in seen, "the opening to begin")
            assert seen["frames_before_opening"] >= 1, "the fleet was opened before the first frame"
            first = seen["painted"].first_text  # the whole home screen, its key bar and what it is doing
            assert READING in first and "Name" in first and "Quit" in first and "palette" in first
            screen = app.screen
            assert isinstance(screen, DomainsScreen) and app.context is None
            assert str(screen.query_one("#status-line", Label).render()) == READING  # not "0 domains"
            assert screen.query_one(DomainTable).row_count == 0
            # keys that need the fleet are shown disabled meanwhile, and do nothing
            assert screen.check_action("start", ()) is None and app.check_action("bring_up", ()) is None
            assert screen.check_action("filter", ()) is True
            await pilot.press("s", "n")
            assert app.screen is screen and not notifications(app)

            release.set()
            await wait_until(pilot, lambda: screen.query_one(DomainTable).row_count == 4, "the demo's four VMs")
            # the status line follows the table's Changed message, one message later than its rows
            await wait_until(pilot, lambda: str(screen.query_one("#status-line", Label).render()).startswith("4 domains, 0 running"),
                             "the status line to count the four VMs")
            assert "demo driver" in app.sub_title
            assert screen.check_action("start", ()) is True and app.check_action("bring_up", ()) is True
    finally:
        release.set()
        context = app.opened_context()
        if context is not None:
            context.fleet.close()


async def test_quitting_while_the_fleet_opens_leaves_it_to_the_caller_to_close(workdir) -> None:
    release, seen = threading.Event(), {}
    app = RfconsoleApp(_opener(workdir, release, seen), poll_seconds=0)
    seen["painted"] = Painted(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: "frames_before_opening" in seen, "the opening to begin")
        await pilot.press("q")
    assert app.context is None
    threading.Timer(0.05, release.set).start()
    context = app.opened_context()  # waits for the opening thread: what it opened is not lost
    assert context is not None
    context.fleet.close()


def test_a_problem_opening_the_working_folder_ends_the_console_with_the_clis_error(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "rfconsole.toml").write_text("[hosts\n")  # not TOML
    ran = []

    def headless(app, **_options):
        ran.append(app)
        return run_app(app, headless=True, size=(80, 24))

    monkeypatch.setattr(launch, "run_app", headless)
    with pytest.raises(RfconsoleError) as raised:
        launch.run_console(argparse.Namespace(workdir=tmp_path, demo=False, connect=None))
    assert "rfconsole.toml: not valid TOML" in raised.value.message
    assert ran and ran[0].opening_error is raised.value and ran[0].return_code == 0


_FIRST_FRAME_PROBE = """
import json, sys
from rfconsole.tui import launch

def headless(app, **_options):
    real = app._display
    def display(screen, renderable):
        if renderable is not None and not app._batch_count and type(screen).__name__ == "DomainsScreen" and "seen" not in found:
            found["seen"] = sorted(sys.modules)
            app.exit()
        real(screen, renderable)
    app._display = display
    app.run(headless=True, size=(120, 40))
    return 0

found = {}
launch.run_app = headless
from rfconsole.cli import main
code = main(["--workdir", sys.argv[1], "--demo"])
print(json.dumps({"code": code, "modules": found.get("seen")}))
"""


def test_rfconsole_paints_its_first_frame_before_importing_libvirt_lxml_or_pydantic(workdir) -> None:
    done = subprocess.run([sys.executable, "-c", _FIRST_FRAME_PROBE, str(workdir)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["code"] == 0 and outcome["modules"], "no frame of the home screen was painted"
    heavy = {module.partition(".")[0] for module in outcome["modules"]} & {"libvirt", "libvirtmod", "lxml", "pydantic"}
    assert not heavy, f"imported before the first frame: {sorted(heavy)}"
