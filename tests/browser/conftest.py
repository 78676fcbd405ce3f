"""`rfconsole serve` driven by a real headless Chromium: Debian's chromium (scripts/setup.sh)
launched by Playwright through its executable path; Playwright downloads no browser. The served
console and its screen are bench/_served.py's (bench/serve.py times the same)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench._served import CHROMIUM, Served, launch_chromium, serve
from tests.integration.conftest import (  # noqa: F401 - the real daemons' fixtures, for the tests on qemu:///system
    clean_libvirt,
    daemons,
    daemons_lock,
    guest,
    workdir,
)


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
        browser = launch_chromium(playwright)
        yield browser
        browser.close()
