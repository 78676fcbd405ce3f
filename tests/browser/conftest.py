"""`rfconsole serve` driven by a real headless Chromium: Debian's chromium (scripts/setup.sh)
launched by Playwright through its executable path; Playwright downloads no browser."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyte
import pytest

from tests.integration.conftest import (  # noqa: F401 - the real daemons' fixtures, for the tests on qemu:///system
    clean_libvirt,
    daemons,
    daemons_lock,
    guest,
    workdir,
)

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
URL_LINE = re.compile(r"open (http://[^ ]+)/auth\?token=(\S+)")


@dataclass
class Served:
    process: subprocess.Popen[str]
    base: str
    token: str

    @property
    def login(self) -> str:
        return f"{self.base}/auth?token={self.token}"

    def consoles(self) -> list[int]:
        """The console processes the server runs now (its children)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]


def serve(folder: Path, *options: str, connect: str | None = None) -> Served:
    """``rfconsole serve`` on the demo, or on the real host ``connect``."""
    target = ["--connect", connect] if connect else ["--demo"]
    process = subprocess.Popen(
        [str(REPO / ".venv/bin/rfconsole"), *target, "--workdir", str(folder), "serve", "--listen", "127.0.0.1:0", *options],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = URL_LINE.search(line)
    if not found:
        process.kill()
        raise AssertionError(f"rfconsole serve printed {line!r}{process.stdout.read()}")
    return Served(process, found.group(1), found.group(2))


@pytest.fixture
def demo_folder(tmp_path: Path) -> Path:
    (tmp_path / "XML").mkdir()
    (tmp_path / "Images").mkdir()
    (tmp_path / "Images" / "h1.img").write_bytes(b"")  # rfvmA's image: a VM is not started without it
    return tmp_path


@pytest.fixture
def server_factory(demo_folder: Path) -> Iterator:
    started: list[Served] = []

    def start(*options: str, connect: str | None = None, folder: Path | None = None) -> Served:
        served = serve(folder or demo_folder, *options, connect=connect)
        started.append(served)
        return served

    yield start
    for served in started:
        served.process.terminate()
        try:
            served.process.wait(5)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait()


# package scope: Playwright's sync API runs an event loop of its own while it lives, and the
# asyncio tests (tests/tui) that run after these in one session cannot start theirs beside it
@pytest.fixture(scope="package")
def browser() -> Iterator:
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: run scripts/setup.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Chromium's own Local Network Access checks would block another site's page from reaching
        # 127.0.0.1 before the server sees it; other browsers (and older Chromium) have none, so the
        # server's Origin check must hold on its own: the tests turn the browser's check off
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--disable-features=LocalNetworkAccessChecks"])
        yield browser
        browser.close()


@dataclass
class Screen:
    """The console's screen as its WebSocket frames draw it (pyte decodes the escape sequences)."""

    width: int = 0
    height: int = 0
    screen: pyte.Screen | None = None
    stream: pyte.ByteStream = field(default_factory=pyte.ByteStream)

    def attach(self, websocket) -> None:
        query = dict(part.split("=", 1) for part in websocket.url.partition("?")[2].split("&") if "=" in part)
        self.screen = pyte.Screen(int(query.get("width", 80)), int(query.get("height", 24)))
        self.stream.attach(self.screen)
        websocket.on("framereceived", self.feed)

    def feed(self, payload) -> None:
        if isinstance(payload, bytes):
            self.stream.feed(payload)

    def text(self) -> str:
        return "\n".join(self.screen.display) if self.screen else ""

    def wait_for(self, page, predicate, what: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if predicate(text):
                return text
            page.wait_for_timeout(50)
        raise AssertionError(f"the screen never showed {what}:\n{self.text()}")


def open_console(browser, served: Served):
    """A new tab on the login URL, with its Screen fed from the console's WebSocket."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    screen = Screen()
    page.on("websocket", screen.attach)
    response = page.goto(served.login)
    return page, screen, response
