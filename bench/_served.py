"""A served console (``rfconsole serve``) and its screen as a browser gets it, for tests/browser and
bench/serve.py: the server as a process printing its login URL, and the console's screen rebuilt
from its WebSocket frames (pyte decodes the escape sequences: the page itself is a canvas)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyte

RFCONSOLE = str(Path(sys.executable).with_name("rfconsole"))  # the virtual environment's
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
        [RFCONSOLE, *target, "--workdir", str(folder), "serve", "--listen", "127.0.0.1:0", *options],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = URL_LINE.search(line)
    if not found:
        process.kill()
        raise AssertionError(f"rfconsole serve printed {line!r}{process.stdout.read()}")
    return Served(process, found.group(1), found.group(2))


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

    def wait_for(self, page, predicate, what: str, timeout: float = 20.0, every_ms: float = 50) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if predicate(text):
                return text
            page.wait_for_timeout(every_ms)  # frames are taken in only while Playwright waits
        raise AssertionError(f"the screen never showed {what}:\n{self.text()}")


def open_console(browser, served: Served):
    """A new tab on the login URL, with its Screen fed from the console's WebSocket."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    screen = Screen()
    page.on("websocket", screen.attach)
    response = page.goto(served.login)
    return page, screen, response


def launch_chromium(playwright: Any) -> Any:
    """Debian's chromium (scripts/setup.sh) through Playwright, which downloads no browser.
    Chromium's own Local Network Access checks would block another site's page from reaching
    127.0.0.1 before the server sees it; other browsers (and older Chromium) have none, so the
    server's Origin check must hold on its own: they are turned off."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=["--disable-features=LocalNetworkAccessChecks"])
