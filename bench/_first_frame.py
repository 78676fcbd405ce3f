"""The console's first frames against a bare Textual app with the same widgets, for bench/tui.py.

``python bench/_first_frame.py bare|console WORKDIR``: one run in a fresh process, printing one
JSON line ``{"first": t, "filled": t}``, each a ``time.perf_counter()`` stamp (CLOCK_MONOTONIC,
the same clock in every process of the machine), so the parent, which stamps just before it starts
the process, gets Python's start-up, the imports and everything up to each frame, and nothing of
the shutdown after it.

- ``bare``: a Textual app with the console home screen's widgets (header with the same title, a
  hidden filter box, a DataTable with the same eleven columns and the same four rows, the hidden
  progress bar, the status line, a two-line key bar) and just the CSS that lays them out the same;
  its rows are literals, so its first frame is already filled.
- ``console``: ``rfconsole --workdir WORKDIR --demo`` through the real entry point
  (``rfconsole.cli.main``), with the one difference that the app runs headless at 120x40.

Both stop at the same points, seen the same way (:class:`FrameProbe`): ``first``, the first frame
of the app's screen written to the terminal; ``filled``, the first frame whose text shows rfvmD
(the last of the four rows). A frame is what Textual's ``App._display`` would write to a real
terminal: the probe renders it to escape sequences, as the terminal driver does, so both sides pay
that too. Headless, Textual computes each frame but skips only that last step.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

SIZE = (120, 40)
FILLED_NEEDLE = "rfvmD"  # the last of the four rows in the console's slot order

ROWS = [  # the demo's four VMs as the console shows them (styles as (text, style) pairs)
    ((" ", ""), (name, "bold"), "demo", "test", ("shut off", "dim"), "1", "512", "  0.0", (" " * 12, "green"), f"dp {dp}", "")
    for name, dp in (("rfvmA", 5), ("rfvmB", 6), ("rfvmC", 7), ("rfvmD", 8))
]
COLUMNS = (
    ("mark", " ", 1), ("name", "Name", 14), ("host", "Host", 8), ("hypervisor", "Hyp", 4),
    ("state", "State", 11), ("vcpus", "vCPU", 4), ("memory", "MiB", 6), ("cpu", "CPU %", 5),
    ("spark", "CPU history", 12), ("switch", "Switch", 10), ("image", "Image", 24),
)
KEYS = (
    "n New  e Edit  x XML  s Start  h Shutdown  d Destroy  u Undefine  f Define  r Redeploy  p Pause  "
    "z Snapshot  b Reset  l Snapshots  c Clone  i Details  v Console  / Filter  a rftest2  ? Help  q Quit  ^p palette"
)
BARE_CSS = """
#filter { dock: top; border: tall $accent; display: none; }
#domains { height: 1fr; scrollbar-gutter: stable; }
#progress-bar { height: 1; padding: 0 1; display: none; }
#status-line { height: 1; width: 100%; padding: 0 1; background: $boost; color: $text-muted; }
#keys { dock: bottom; height: auto; width: 100%; background: $footer-background; color: $footer-foreground; padding: 0 1; }
"""


class FrameProbe:
    """Stamps the first frame an app writes, and the first whose text holds ``needle`` (then exits
    the app). Installed on the app instance over ``App._display``, Textual's one way to the terminal."""

    def __init__(self, app: Any, needle: str = FILLED_NEEDLE) -> None:
        self.app = app
        self.needle = needle
        self.first: float | None = None
        self.filled: float | None = None
        self._display = app._display
        app._display = self._probe

    def _probe(self, screen: Any, renderable: Any) -> None:
        app = self.app
        # the conditions under which App._display writes to a terminal driver
        painted = renderable is not None and not app._batch_count and app._running and not app._closed
        self._display(screen, renderable)
        if not painted or self.filled is not None:
            return
        text = renderable.render_segments(app.console) if hasattr(renderable, "render_segments") else ""
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        if self.needle in text:
            self.filled = now
            app.exit()

    def stamps(self) -> dict[str, float]:
        if self.first is None or self.filled is None:
            raise RuntimeError(f"no frame showing {self.needle!r} was painted")
        return {"first": self.first, "filled": self.filled}


def bare_app() -> Any:
    """The bare app with the console home screen's widgets (imports Textual only)."""
    from rich.text import Text
    from textual.app import App, ComposeResult
    from textual.containers import Horizontal
    from textual.widgets import DataTable, Header, Input, Label, ProgressBar, Static

    class BareApp(App[None]):
        TITLE = "rfconsole"
        CSS = BARE_CSS

        def compose(self) -> ComposeResult:
            yield Header()
            yield Input(placeholder="filter: name, host, hypervisor, state, image", id="filter")
            yield DataTable(id="domains", cursor_type="row", zebra_stripes=True, fixed_columns=2)
            with Horizontal(id="progress-bar"):
                yield Label("", id="progress-label")
                yield ProgressBar(id="progress", show_eta=False)
            yield Label("4 domains, 0 running · sorted by slot", id="status-line")
            yield Static(Text(KEYS), id="keys")

        def on_mount(self) -> None:
            self.sub_title = "demo driver (libvirt test:///): nothing real runs"
            table = self.query_one(DataTable)
            for key, label, width in COLUMNS:
                table.add_column(label, key=key, width=width)
            for row in ROWS:
                cells = [Text(*cell) if isinstance(cell, tuple) else cell for cell in row]
                table.add_row(*cells, key=f"demo/{row[1][0]}")
            table.focus()

    return BareApp()


def run_bare() -> dict[str, float]:
    app = bare_app()
    probe = FrameProbe(app)
    app.run(headless=True, size=SIZE)
    return probe.stamps()


def run_console(workdir: str) -> dict[str, float]:
    """``rfconsole --workdir WORKDIR --demo`` through rfconsole.cli.main, headless."""
    from rfconsole.cli import main
    from rfconsole.tui import launch

    probes: list[FrameProbe] = []

    def run_headless(app: Any, **_options: Any) -> int:
        probes.append(FrameProbe(app))
        app.run(headless=True, size=SIZE)
        return 0

    real_run_app, launch.run_app = launch.run_app, run_headless
    try:
        status = main(["--workdir", workdir, "--demo"])
    finally:
        launch.run_app = real_run_app
    if status != 0 or not probes:
        raise RuntimeError(f"rfconsole --demo exited {status}")
    return probes[0].stamps()


if __name__ == "__main__":
    stamps = run_bare() if sys.argv[1] == "bare" else run_console(sys.argv[2])
    print(json.dumps(stamps))
