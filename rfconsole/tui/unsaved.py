"""How a screen tells the app what quitting would lose: a message, not the app looking into screens."""

from __future__ import annotations

from textual.message import Message
from textual.screen import Screen


class UnsavedWork(Message):
    """What of ``screen``'s work is not saved, in words naming the screen and the VM or file; None
    once nothing of it would be lost (saved, left, closed). The app keeps the latest of each screen
    and names them all in one question before quitting."""

    def __init__(self, screen: Screen, words: str | None) -> None:
        super().__init__()
        self.screen = screen
        self.words = words


class HoldsWork:
    """For a screen that can hold typed work: it implements ``unsaved_work()`` and calls
    ``report_unsaved_work()`` whenever that may have changed; closing reports that nothing is held."""

    _reported_work: str | None = None

    def unsaved_work(self) -> str | None:
        raise NotImplementedError

    def report_unsaved_work(self) -> None:
        words = self.unsaved_work() if self.is_mounted else None  # type: ignore[attr-defined]
        if words != self._reported_work:
            self._reported_work = words
            self.app.post_message(UnsavedWork(self, words))  # type: ignore[attr-defined, arg-type]

    def on_unmount(self) -> None:
        if self._reported_work is not None:
            self._reported_work = None
            self.app.post_message(UnsavedWork(self, None))  # type: ignore[attr-defined, arg-type]
