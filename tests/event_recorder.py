"""A Fleet/Host subscriber for tests, shared by the unit and the real-daemon layers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest


class EventRecorder:
    """Keeps every event it receives (it is called on libvirt's event-loop thread)."""

    def __init__(self) -> None:
        self.events: list = []
        self._changed = threading.Condition()

    def __call__(self, event) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[object], bool], what: str = "an event", timeout: float = 30.0):
        """The first event (old or new) matching ``predicate``; fail the test after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"no {what} within {timeout:g} s; received: {[str(event) for event in self.events]}")
                self._changed.wait(remaining)

    def domain_event(self, domain: str, kind: str, timeout: float = 30.0):
        return self.wait_for(
            lambda event: getattr(event, "domain", None) == domain and str(getattr(event, "kind", "")) == kind,
            f"'{kind}' event for {domain}",
            timeout,
        )

    def clear(self) -> None:
        with self._changed:
            self.events.clear()
