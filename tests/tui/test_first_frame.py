"""What the console does before its first frame stays small (docs/architecture.md, "The first frame").
Structural checks only: speed itself is measured in bench/tui.py."""

from __future__ import annotations

from pathlib import Path

from textual.screen import Screen

from rfconsole.tui.app import RfconsoleApp
from rfconsole.tui.styles import APP_STYLESHEETS, STYLESHEETS
from tests.tui.conftest import wait_until


def _all_screen_classes() -> list[type[Screen]]:
    import rfconsole.tui.screens.bringup
    import rfconsole.tui.screens.clone
    import rfconsole.tui.screens.dialogs
    import rfconsole.tui.screens.domains
    import rfconsole.tui.screens.help
    import rfconsole.tui.screens.snapshots
    import rfconsole.tui.screens.vmconsole
    import rfconsole.tui.screens.vmdetails
    import rfconsole.tui.screens.wizard
    import rfconsole.tui.screens.xmleditor  # noqa: F401 - every screen module, so every class is known

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
