"""The wizard's questions to the host: libvirt calls on workers, and the keys pressed while one is
out queued and run in order once it is answered (docs/console.md, "The wizard")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual.screen import Screen

from rfconsole.tui.background import in_background
from rfconsole.tui.context import console_app

HOST_QUESTIONS = "wizard"  # the worker group of the libvirt calls the wizard makes
Result = TypeVar("Result")
ScreenResult = TypeVar("ScreenResult")


class AsksHost(Screen[ScreenResult]):
    """A screen that asks the host off the UI thread; its actions wait their turn meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.asking = 0  # questions to the host (libvirt, on workers) not answered yet
        self._queued: list[str] = []  # actions of keys pressed meanwhile, run in order once answered

    def ask_host(self, doing: str, job: Callable[[], Result], then: Callable[[Result], object]) -> None:
        """Run ``job`` (libvirt calls) on a worker, then ``then(result)`` here; its failure is told
        in a notification naming ``doing``, never a crash, and the keys pressed meanwhile still run."""
        self.asking += 1

        def failed(error: BaseException) -> None:
            self._answered(lambda _none: console_app(self).report(error, doing), None)

        in_background(self, doing, job, lambda result: self._answered(then, result), failed, group=HOST_QUESTIONS)

    def _answered(self, then: Callable[[Any], object], result: Any) -> None:
        self.asking -= 1
        if self.is_attached:
            then(result)
        if not self.asking and self._queued:
            self.call_next(self._run_queued)

    async def _run_queued(self) -> None:
        """The keys pressed while the host was asked, in order, until one asks it again."""
        while self._queued and not self.asking:
            await self.run_action(self._queued.pop(0))

    def wait_turn(self, action: str) -> bool:
        """While the host is being asked, a key's action waits for the answer (True: queued)."""
        if self.asking:
            self._queued.append(action)
            return True
        return False
