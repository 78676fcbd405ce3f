"""The stylesheets are found in a source checkout (the wheel ships them as rfconsole/styles) and parse."""

from __future__ import annotations

from textual.app import App
from textual.css.stylesheet import Stylesheet

from rfconsole.tui.styles import STYLESHEETS, styles_dir, stylesheet_paths


def test_every_stylesheet_is_found_and_parses() -> None:
    folder = styles_dir()
    assert sorted(path.name for path in folder.glob("*.tcss")) == sorted(STYLESHEETS)
    sheet = Stylesheet(variables=App().get_css_variables())  # the theme's $background, $accent …
    for path in stylesheet_paths():
        sheet.read(path)
    sheet.parse()
    assert sheet.rules
