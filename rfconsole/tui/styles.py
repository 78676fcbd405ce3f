"""Where the console's stylesheets are: inside the wheel or in a source checkout."""

from __future__ import annotations

from pathlib import Path

from rfconsole.errors import RfconsoleError

STYLESHEETS = ("app.tcss", "domains.tcss", "wizard.tcss", "xml.tcss", "dialogs.tcss", "vm.tcss")


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


def stylesheet_paths() -> list[Path]:
    folder = styles_dir()
    return [folder / name for name in STYLESHEETS]
