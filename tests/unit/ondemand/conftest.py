from __future__ import annotations

import asyncio
import logging

import pytest

from rfconsole.ondemand.listener import ListenerSettings, SwitchListener
from rfconsole.ondemand.registry import SwitchEvent, SwitchRegistry

# Short enough for fast tests, long enough for a loaded 2-core CI machine to answer in time.
FAST = ListenerSettings(port=0, handshake_timeout=2.0, echo_interval=0.2, echo_timeout=1.0, max_connections=16)


class EventLog:
    """Switch events in arrival order, awaitable."""

    def __init__(self, registry: SwitchRegistry) -> None:
        self.events: list[SwitchEvent] = []
        self._queue: asyncio.Queue[SwitchEvent] = asyncio.Queue()
        registry.subscribe(self._record)

    def _record(self, event: SwitchEvent) -> None:
        self.events.append(event)
        self._queue.put_nowait(event)

    async def next(self, timeout: float = 3.0) -> SwitchEvent:
        return await asyncio.wait_for(self._queue.get(), timeout)

    def empty(self) -> bool:
        return self._queue.empty()


@pytest.fixture
def registry() -> SwitchRegistry:
    return SwitchRegistry({5: ("rfvmA",), 6: ("rfvmB",)})


@pytest.fixture
async def events(registry: SwitchRegistry) -> EventLog:
    return EventLog(registry)


@pytest.fixture
async def listener(registry: SwitchRegistry, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="rfconsole.ondemand")
    async with SwitchListener(registry, FAST) as running:
        yield running
