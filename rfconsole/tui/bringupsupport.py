"""What rftest2's bring-up asks of the lower layers: the XML/ listing, and deploying four VMs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rfconsole.tui.context import ConsoleContext
from rfconsole.tui.fleetview import SLOTS


def xml_entries(context: ConsoleContext) -> list[Any]:
    return list(context.store.entries())


def existing_choices(context: ConsoleContext) -> dict[str, Path]:
    """XML/<slot>.xml where it exists: the obvious choice for each slot."""
    found = {}
    for slot in SLOTS:
        path = context.workdir.xml_dir / f"{slot}.xml"
        if path.is_file():
            found[slot] = path
    return found


def defined_slots(context: ConsoleContext) -> list[str]:
    """"rfvmA on host demo" for each of rftest2's VMs a host has defined: what a deploy replaces."""
    return [f"{status.name} on host {status.host}" for status in context.fleet.statuses() if status.name in SLOTS]


def deploy(context: ConsoleContext, chosen: Mapping[str, Path | None], progress: Callable[[str, str, int], None]) -> dict[str, Any]:
    """Each slot's XML through Fleet's bring-up; per slot, its result text or its error."""
    return context.fleet.bring_up_rftest2(chosen, progress=progress)
