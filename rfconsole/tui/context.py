"""What the console works on: the working folder, its store, the fleet of hosts, the switch registry."""

from __future__ import annotations

from dataclasses import dataclass
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
    demo: bool = False
    switches: Any = None  # rfconsole.ondemand's switch registry, when on-demand boot runs
