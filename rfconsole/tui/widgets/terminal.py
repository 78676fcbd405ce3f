"""A terminal emulator widget: pyte keeps the screen (VT100/xterm escapes, scrollback), this
widget draws it and turns keys into the bytes a terminal would send. It knows nothing of
libvirt: ``feed(bytes)`` puts output in, ``on_input(bytes)`` (given at construction) takes what
the user types and what the emulator answers (cursor position reports). Why pyte: docs/console.md.
"""

from __future__ import annotations

from collections.abc import Callable

import pyte
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

HISTORY_LINES = 5000

# Keys a terminal sends as escape sequences (xterm's normal cursor mode).
KEY_BYTES: dict[str, bytes] = {
    "enter": b"\r",
    "tab": b"\t",
    "shift+tab": b"\x1b[Z",
    "backspace": b"\x7f",
    "escape": b"\x1b",
    "up": b"\x1b[A",
    "down": b"\x1b[B",
    "right": b"\x1b[C",
    "left": b"\x1b[D",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
    "insert": b"\x1b[2~",
    "delete": b"\x1b[3~",
    "pageup": b"\x1b[5~",
    "pagedown": b"\x1b[6~",
    **{f"f{n}": code for n, code in zip(range(1, 13), (
        b"\x1bOP", b"\x1bOQ", b"\x1bOR", b"\x1bOS", b"\x1b[15~", b"\x1b[17~", b"\x1b[18~", b"\x1b[19~",
        b"\x1b[20~", b"\x1b[21~", b"\x1b[23~", b"\x1b[24~",
    ))},
}

# pyte's colour names -> Rich's (pyte says "brown" for yellow)
_COLOURS = {"brown": "yellow", "brightbrown": "bright_yellow"}


def key_bytes(event: events.Key) -> bytes | None:
    """What a terminal sends for this key, None for keys it sends nothing for."""
    if event.key in KEY_BYTES:
        return KEY_BYTES[event.key]
    if event.key.startswith("ctrl+") and len(event.key) == 6 and event.key[5].isalpha():
        return bytes([ord(event.key[5].lower()) - ord("a") + 1])
    if event.character is not None and event.character != "":
        return event.character.encode("utf-8", errors="replace")
    return None


def _colour(name: str) -> str | None:
    if name == "default":
        return None
    if len(name) == 6 and all(c in "0123456789abcdefABCDEF" for c in name):
        return f"#{name}"
    name = _COLOURS.get(name, name)
    if name.startswith("bright") and not name.startswith("bright_"):
        name = "bright_" + name[len("bright"):]
    return name


class _Screen(pyte.HistoryScreen):
    """pyte's screen with scrollback; its answers to the program (cursor position) go back out."""

    def __init__(self, columns: int, lines: int, answer: Callable[[str], None]) -> None:
        super().__init__(columns, lines, history=HISTORY_LINES, ratio=0.5)
        self._answer = answer

    def write_process_input(self, data: str) -> None:
        self._answer(data)


class TerminalView(Widget, can_focus=True):
    """The emulated screen, sized to the widget; keys go to ``on_input`` (the focused widget
    takes every key but the screen's priority ones)."""

    DEFAULT_CSS = "TerminalView { width: 1fr; height: 1fr; }"

    def __init__(self, on_input: Callable[[bytes], None], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._on_input = on_input
        self._screen = _Screen(80, 24, self._answer)
        self._stream = pyte.ByteStream(self._screen)
        self._styles: dict[tuple, Style] = {}

    # ------------------------------------------------------------------ output in
    def feed(self, data: bytes) -> None:
        """Output from the guest (on the UI thread)."""
        self._stream.feed(data)
        self.refresh()

    def _answer(self, text: str) -> None:
        self._on_input(text.encode())

    def text(self) -> str:
        """The lines shown now (scrollback position included), right-trimmed: what copy copies."""
        return "\n".join(line.rstrip() for line in self._screen.display).rstrip("\n")

    @property
    def scrolled_back(self) -> bool:
        return self._screen.history.position < self._screen.history.size

    def scroll_history(self, pages: int) -> None:
        """Back (negative) or forward (positive) in the scrollback, by half screens."""
        for _ in range(abs(pages)):
            if pages < 0:
                self._screen.prev_page()
            else:
                self._screen.next_page()
        self.refresh()

    def to_bottom(self) -> None:
        while self.scrolled_back:
            before = self._screen.history.position
            self._screen.next_page()
            if self._screen.history.position == before:
                break
        self.refresh()

    # ------------------------------------------------------------------ size
    def on_resize(self, event: events.Resize) -> None:
        columns, lines = max(2, event.size.width), max(2, event.size.height)
        if (columns, lines) != (self._screen.columns, self._screen.lines):
            self._screen.resize(lines=lines, columns=columns)
            self.refresh()

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return container.height

    # ------------------------------------------------------------------ keys in
    def on_key(self, event: events.Key) -> None:
        data = key_bytes(event)
        if data is None:
            return
        event.stop()
        event.prevent_default()
        if self.scrolled_back:
            self.to_bottom()
        self._on_input(data)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self._on_input(event.text.replace("\n", "\r").encode())

    # ------------------------------------------------------------------ drawing
    def render_line(self, y: int) -> Strip:
        screen = self._screen
        if y >= screen.lines:
            return Strip.blank(self.size.width)
        row = screen.buffer[y]
        cursor = (
            self.has_focus and not self.scrolled_back and not screen.cursor.hidden and y == screen.cursor.y
        )
        segments: list[Segment] = []
        run_text: list[str] = []
        run_style: Style | None = None
        for x in range(screen.columns):
            char = row[x]
            style = self._style(char, cursor and x == screen.cursor.x)
            if style is not run_style and run_text:
                segments.append(Segment("".join(run_text), run_style))
                run_text = []
            run_style = style
            run_text.append(char.data or " ")
        if run_text:
            segments.append(Segment("".join(run_text), run_style))
        return Strip(segments).crop(0, self.size.width)

    def _style(self, char: pyte.screens.Char, cursor: bool) -> Style:
        key = (char.fg, char.bg, char.bold, char.italics, char.underscore, char.strikethrough, char.reverse != cursor)
        style = self._styles.get(key)
        if style is None:
            style = Style(
                color=_colour(char.fg), bgcolor=_colour(char.bg), bold=char.bold or None, italic=char.italics or None,
                underline=char.underscore or None, strike=char.strikethrough or None, reverse=key[-1] or None,
            )
            self._styles[key] = style
        return style
