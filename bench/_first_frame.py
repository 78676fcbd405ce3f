"""One first frame in a fresh process, for bench/tui.py: ``python bench/_first_frame.py bare|console WORKDIR``.

``bare``: a Textual app with one label; ``console``: rfconsole's console on the demo driver
(WORKDIR as its working folder) until its table shows the four VMs. Both headless (App.run_test),
both exit as soon as the frame is there. The parent times the process: Python's start-up, the
imports and the first frame.
"""

import asyncio
import sys
import time


async def _bare() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Label

    class BareApp(App[None]):
        def compose(self) -> ComposeResult:
            yield Label("bare")

    app = BareApp()
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.screen.query(Label):
            await pilot.pause(0.001)


async def _console(workdir: str) -> None:
    import argparse
    from pathlib import Path

    from rfconsole.tui.app import RfconsoleApp
    from rfconsole.tui.launch import build_context
    from rfconsole.tui.screens.domains import DomainTable

    context = build_context(argparse.Namespace(workdir=Path(workdir), demo=True, connect=None))
    app = RfconsoleApp(context, poll_seconds=0)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            deadline = time.monotonic() + 60
            while True:
                tables = app.screen.query(DomainTable)
                if tables and tables.first().row_count >= 4:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError("the console showed no table of four VMs within 60 s")
                await pilot.pause(0.001)
    finally:
        context.fleet.close()


if __name__ == "__main__":
    asyncio.run(_bare() if sys.argv[1] == "bare" else _console(sys.argv[2]))
