"""What the console works on: the working folder, its store, the fleet of hosts, the switch registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
