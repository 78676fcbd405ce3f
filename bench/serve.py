"""The console in a browser (``rfconsole serve``) against the console in a terminal, in the same run.

- ``serve.page_load_to_four_vms``: from opening the login URL in a tab of a running headless
  Chromium (Debian's, through Playwright) to the first WebSocket frame whose screen (decoded with
  pyte, as tests/browser do) shows rfvmA–rfvmD: the token exchange, the page and its scripts, the
  socket, the session's own console process (Python's start-up and every import) and its frames;
- baseline: ``tui.process_first_frame_filled``'s measure (bench/tui.py): a fresh ``rfconsole --demo``
  process to its first frame showing the four VMs.

Rounds alternate the two; medians over ROUNDS, after one warm-up each. The server runs for the
whole benchmark (as a user's would); each round's tab is closed and its console gone before the next.

Run alone: .venv/bin/python -m bench.serve
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench._served import launch_chromium, open_console, serve
from bench.common import compile_bytecode, median, row
from bench.tui import _process_first_frame

ROUNDS = 7
VMS = ("rfvmA", "rfvmB", "rfvmC", "rfvmD")


def _page_load(browser, served) -> float:
    started = time.perf_counter()
    page, screen, _ = open_console(browser, served)
    screen.wait_for(page, lambda text: all(name in text for name in VMS), "the four demo VMs", every_ms=5)
    elapsed = time.perf_counter() - started
    page.context.close()
    deadline = time.monotonic() + 10
    while served.consoles() and time.monotonic() < deadline:  # the session's console ends with its socket
        time.sleep(0.02)
    return elapsed


def run() -> list[dict]:
    from playwright.sync_api import sync_playwright

    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="rfconsole-bench-serve-") as folder:
        workdir = Path(folder)
        (workdir / "XML").mkdir()
        (workdir / "Images").mkdir()
        served = serve(workdir)
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                try:
                    _page_load(browser, served)  # warm-up: the browser's caches, the .pyc files
                    _process_first_frame("console", workdir)
                    pages, terminals = [], []
                    for _ in range(ROUNDS):
                        pages.append(_page_load(browser, served))
                        terminals.append(_process_first_frame("console", workdir)["filled"])
                finally:
                    browser.close()
        finally:
            served.process.terminate()
            served.process.wait(10)
    return [row("serve.page_load_to_four_vms", "the console in a terminal: a fresh process to its frame showing the four VMs",
                median(terminals), median(pages), frame="first showing the four VMs", domains=4, repeats=ROUNDS)]


if __name__ == "__main__":
    from bench.common import format_table

    print(format_table(run()))
