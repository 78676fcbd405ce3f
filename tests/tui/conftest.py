"""Console tests: the real app on the demo driver (libvirt's test driver holding rfvmA–rfvmD), in a fresh
working folder each time."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rfconsole.tui.app import RfconsoleApp
from rfconsole.tui.context import ConsoleContext
from rfconsole.tui.launch import build_context


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "XML").mkdir()
    (tmp_path / "Images").mkdir()
    return tmp_path


@pytest.fixture
def context(workdir: Path) -> Iterator[ConsoleContext]:
    context = build_context(argparse.Namespace(workdir=workdir, demo=True, connect=None))
    try:
        yield context
    finally:
        context.fleet.close()


@pytest.fixture
def app(context: ConsoleContext) -> RfconsoleApp:
    """No polling timer: rows change only through libvirt's events and explicit refreshes."""
    return RfconsoleApp(context, poll_seconds=0)


async def wait_until(pilot, predicate: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    """Let the app work (workers, events) until ``predicate`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.02)


def notifications(app: RfconsoleApp) -> list[str]:
    return [notification.message for notification in app._notifications]


def toasts_shown(app: RfconsoleApp, count: int) -> Callable[[], str]:
    """What the screen's toasts show, as words: empty until ``count`` toasts are laid out (a toast is
    queryable before it has a size, and then renders nothing)."""
    from textual.widgets._toast import Toast

    def shown() -> str:
        toasts = list(app.screen.query(Toast))
        if len(toasts) < count or any(toast.size.height == 0 for toast in toasts):
            return ""
        return " ".join(" ".join(toast.render_line(y).text for toast in toasts for y in range(toast.size.height)).split())

    return shown


def cut_texts(screen) -> list[tuple[str, str]]:
    """The labels of ``screen`` whose whole text is not on screen (cut at an edge or a height), as
    (text, what shows); wrapping is fine."""
    from textual.widgets import Label, Static

    cut = []
    for widget in screen.query(Static):
        if not isinstance(widget, Label) and type(widget) is not Static:
            continue
        if not widget.display or widget.region.area == 0:
            continue
        text = " ".join(str(widget.render()).split())
        shown = " ".join(" ".join(widget.render_line(y).text for y in range(widget.size.height)).split())
        if text.startswith("RichVisual("):  # a Rich table: a cell too narrow for its text ends in "…"
            text = shown.replace("…", "<cut>")
        inside = widget.parent.content_region if widget.parent is not None else screen.region
        if text and (text not in shown or widget.region.right > inside.right or widget.region.x < inside.x):
            cut.append((text, shown))
    return cut
