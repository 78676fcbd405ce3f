"""Where the console's stylesheets are: inside the wheel or in a source checkout.

The app loads only what its first frame needs (``APP_STYLESHEETS``: the shell and the home screen);
each other screen names its own sheet as ``CSS_PATH = stylesheet_paths("wizard.tcss")``, which
Textual reads the first time that screen is shown (docs/architecture.md, "The first frame").
"""

from __future__ import annotations

from pathlib import Path, PurePath

from rfconsole.errors import RfconsoleError

APP_STYLESHEETS = ("app.tcss", "domains.tcss")
STYLESHEETS = (*APP_STYLESHEETS, "wizard.tcss", "xml.tcss", "dialogs.tcss", "vm.tcss", "events.tcss")


def styles_dir() -> Path:
    """The folder of ``*.tcss`` files: ``rfconsole/styles`` in a wheel, ``<repo>/styles`` in a checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "styles", package.parent / "styles"):
        if (candidate / STYLESHEETS[0]).is_file():
            return candidate
    raise RfconsoleError(
        f"the console's stylesheets are missing: no {STYLESHEETS[0]} in {package / 'styles'} "
        f"nor in {package.parent / 'styles'}",
        hint="reinstall rfconsole (pip install -e . in a checkout)",
    )


def stylesheet_paths(*names: str) -> list[str | PurePath]:
    """The paths of these stylesheets (every one when none is named)."""
    folder = styles_dir()
    return [folder / name for name in (names or STYLESHEETS)]
