"""What the console works on: the working folder, its store, the fleet of hosts, the switch registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual.dom import DOMNode
from textual.signal import Signal

from rfconsole.errors import RfconsoleError

if TYPE_CHECKING:
    from rfconsole.config import Config
    from rfconsole.store import Store, Workdir
    from rfconsole.virt.fleet import Fleet


@dataclass
class ConsoleContext:
    workdir: Workdir
    store: Store
    config: Config
    fleet: Fleet
    switches: Any = None  # rfconsole.ondemand's OnDemand (listener, registry, booter), when it runs
    startup_problems: list = field(default_factory=list)  # RfconsoleErrors to show once the console is up

    @property
    def demo(self) -> bool:
        """The fleet is libvirt's test driver: asked for with --demo, or the default with no config."""
        return self.fleet.demo

    @property
    def read_only(self) -> bool:
        """Opened with --read-only: libvirt's read-only connections, and no key that changes anything."""
        return self.fleet.read_only


class ConsoleApp(Protocol):
    """What screens and widgets use of the console's app (tui/app.py's RfconsoleApp), beyond Textual's App."""

    context: ConsoleContext | None  # None until the app has opened the working folder and the hosts
    poll_seconds: float | None
    fleet_events: Signal[Any]
    switch_events: Signal[Any]
    context_ready: Signal[ConsoleContext]

    def report(self, error: BaseException, doing: str = "") -> None: ...

    def refuses(self, action: str) -> bool: ...

    def run_in_background(self, doing: str, job: Callable[[], Any], done: Callable[[Any], None] | None = None) -> None: ...


def console_app(node: DOMNode) -> ConsoleApp:
    """``node``'s app, typed as the console's (Textual types ``node.app`` as any App)."""
    return cast(ConsoleApp, node.app)


def opened(node: DOMNode) -> ConsoleContext:
    """The console's working folder and hosts; a key that needs them is disabled until they are open."""
    context = console_app(node).context
    if context is None:
        raise RfconsoleError("the console is still opening its working folder and hosts")
    return context
