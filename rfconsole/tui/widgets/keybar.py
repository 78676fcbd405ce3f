"""The keys of the current screen, wrapped onto as many lines as the width needs.

Textual's Footer keeps to one line, so at 80 columns most of the console's keys would fall off it;
this bar shows every one, wrapping, and follows the screen's bindings as they change.
"""

from __future__ import annotations

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Static


class KeyBar(Static):
    """The keys of the screen it is on (styled in styles/app.tcss)."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self._redraw)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self._redraw()

    def _redraw(self) -> None:
        text = Text(no_wrap=False, overflow="fold")
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            text.append(self.app.get_key_display(binding), style=self._key_style(enabled))
            text.append(f" {binding.description}", style="" if enabled else "dim")
            text.append("  ")
        text.append("^p", style=self._key_style(True))
        text.append(" palette")
        self.update(text)

    def _key_style(self, enabled: bool) -> str:
        color = self.app.theme_variables.get("footer-key-foreground", "")
        return f"bold {color}" if enabled and color else ("bold" if enabled else "dim")
