"""The keys of the current screen, wrapped onto at most two lines.

Textual's Footer keeps to one line, so at 80 columns most of the console's keys would fall off it;
this bar wraps, and when even two lines are short it leaves out keys (the spare ones of
keymap.py first) and says how many more the help lists ("? Help +8 keys"). It follows the screen's bindings as they
change and redraws when resized. On a screen whose widget takes every key (keymap's ``takes_keys``: the
VM console) it shows only the keys that still reach rfconsole there, for each action its priority key.
"""

from __future__ import annotations

from rich.text import Text
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Static

from rfconsole.tui.context import console_app
from rfconsole.tui.keymap import PINNED_ACTIONS, SPARE_ACTIONS

MAX_LINES = 2


class KeyBar(Static):
    """The keys of the screen it is on (styled in styles/app.tcss)."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._redraw()  # now, for the screen's first frame (the width is the screen's until laid out)
        self.call_after_refresh(self._settled)

    _settled_down = False

    def _settled(self) -> None:
        self._settled_down = True
        self._redraw()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        # before the first refresh the screen's bindings come and go as its widgets mount and take
        # the focus; the bar drawn at mount stands until then (_settled draws the settled ones)
        if self._settled_down and self.is_attached and screen is self.screen:
            self._redraw()

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._drawn_for_width:  # its height follows the text: no redraw for that
            self._redraw()

    _drawn_for_width = -1

    def _width(self) -> int:
        return self.content_size.width or max(1, self.app.size.width - self.styles.gutter.width)

    def _redraw(self) -> None:
        self._drawn_for_width = self.content_size.width
        bindings = [(binding, enabled) for _node, binding, enabled, _tooltip in self.screen.active_bindings.values()]
        refuses = console_app(self).refuses
        takes_keys = any(section.takes_keys for section in getattr(self.screen, "KEYMAP", ()))
        shown_actions = {binding.action for binding, _enabled in bindings if binding.show}
        keys: list[tuple[str, str, bool]] = []  # (action, written key, enabled), in the screen's order
        seen: set[str] = set()
        for binding, enabled in bindings:
            if binding.action not in shown_actions or binding.action in seen:
                continue
            if takes_keys and not binding.priority:
                continue  # the focused widget takes this key: another key of the action, or none, is shown
            if not binding.show and not takes_keys:
                continue
            if refuses(binding.action):
                continue  # a read-only session: the help lists it as off
            seen.add(binding.action)
            keys.append((binding.action, self.app.get_key_display(binding), enabled))
        labels = {binding.action: binding.description for binding, _enabled in bindings}
        shown = [key for key in keys if key[0] not in PINNED_ACTIONS]
        pinned = [key for key in keys if key[0] in PINNED_ACTIONS]
        leave_out = [key for key in reversed(shown) if key[0] in SPARE_ACTIONS] + [
            key for key in reversed(shown) if key[0] not in SPARE_ACTIONS
        ]
        text = self._text(shown, pinned, labels, 0)
        for left_out in range(1, len(leave_out) + 1):
            if self._lines(text) <= MAX_LINES:
                break
            dropped = {id(key) for key in leave_out[:left_out]}
            text = self._text([key for key in shown if id(key) not in dropped], pinned, labels, left_out)
        drawn = (text.plain, tuple(text.spans))
        if drawn != self._drawn:  # bindings are re-announced often (focus, screens): a same text is no new layout
            self._drawn = drawn
            self.update(text)

    _drawn: tuple = ()

    def _text(self, shown: list[tuple[str, str, bool]], pinned: list[tuple[str, str, bool]], labels: dict[str, str], left_out: int) -> Text:
        """The keys packed into lines of the bar's width, a line breaking only between two keys."""
        items: list[Text] = []
        for action, key, enabled in [*shown, *pinned]:
            label = labels[action]
            if action == "help" and left_out:
                label += f" +{left_out} keys"
            item = Text()
            item.append(key, style=self._key_style(enabled))
            item.append(f" {label}", style="" if enabled else "dim")
            items.append(item)
        items.append(Text.assemble(("^p", self._key_style(True)), " palette"))
        width = self._width()
        text = Text(no_wrap=False, overflow="fold")
        line_length = 0
        for item in items:
            if line_length and line_length + 2 + item.cell_len > width:
                text.append("\n")
                line_length = 0
            elif line_length:
                text.append("  ")
                line_length += 2
            text.append_text(item)
            line_length += item.cell_len
        return text

    def _lines(self, text: Text) -> int:
        return len(text.wrap(self.app.console, self._width()))

    def _key_style(self, enabled: bool) -> str:
        color = self.app.theme_variables.get("footer-key-foreground", "")
        return f"bold {color}" if enabled and color else ("bold" if enabled else "dim")
