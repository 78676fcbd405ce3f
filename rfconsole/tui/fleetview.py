"""The console's view of rfconsole.virt: labels for the table and the dispatch of one key to one Fleet call.

No lifecycle logic lives here: every operation is one call into Fleet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rfconsole.model.rftest2 import RFTEST2_VMS
from rfconsole.tui.context import ConsoleContext

SLOTS = tuple(RFTEST2_VMS)  # rfvmA–rfvmD, shown first

OPERATION_WORDS = {
    "start": "start",
    "shutdown": "shut down",
    "destroy": "destroy (power off)",
    "undefine": "undefine",
    "define": "define",
    "redeploy": "redeploy (destroy, undefine, define, start)",
    "pause": "pause or resume",
}
OPERATION_WARNINGS = {
    "destroy": "The guest is powered off at once, without shutting down.",
    "undefine": "libvirt forgets the domain; its file in XML/ stays.",
    "redeploy": "The running guest is powered off and redefined from its file in XML/.",
}


def row_key(status: Any) -> str:
    return f"{status.host}/{status.name}"


def slot_order(status: Any) -> int:
    return SLOTS.index(status.name) if status.name in SLOTS else len(SLOTS)


def _label(value: Any) -> str:
    return str(getattr(value, "value", value))


def state_label(status: Any) -> str:
    return _label(status.state)


def hypervisor_label(status: Any) -> str:
    return _label(status.hypervisor)


def cpu_percent(status: Any) -> float:
    return float(status.cpu_percent or 0.0)


def statuses(context: ConsoleContext) -> list[Any]:
    return list(context.fleet.statuses())


def status_of(context: ConsoleContext, name: str, host: str) -> Any | None:
    """The domain's status now, or None when it is gone (undefined)."""
    return context.fleet.status(name, host=host)


def images_by_name(context: ConsoleContext) -> dict[str, str]:
    """The image of each valid file in XML/, shown relative to the working folder when inside it."""
    root = context.workdir.root.resolve()
    images = {}
    for name, spec in context.store.specs().items():
        if spec.image is not None:
            image = spec.image
            images[name] = str(image.relative_to(root)) if image.is_relative_to(root) else str(image)
    return images


def switch_label(context: ConsoleContext, status: Any) -> str:
    vm = RFTEST2_VMS.get(status.name)
    if vm is None:
        return ""
    registry = context.switches
    connected = registry is not None and registry.is_connected(vm.datapath_id)
    mark = "up" if connected else "down" if registry is not None else "-"
    return f"dp {vm.datapath_id:x} {mark}"


def run_operation(context: ConsoleContext, operation: str, target: Any) -> Any:
    fleet = context.fleet
    if operation == "pause":
        paused = state_label(target) == "paused"
        return (fleet.resume if paused else fleet.suspend)(target.name, host=target.host)
    if operation in ("define", "redeploy"):
        document = context.store.load(target.name)
        return getattr(fleet, operation)(document, host=target.host)
    return getattr(fleet, operation)(target.name, host=target.host)


def run_many(
    context: ConsoleContext, operation: str, targets: list[Any], progress: Callable[[int, int, str], None]
) -> list[tuple[Any, BaseException]]:
    """Every target through Fleet, concurrently where Fleet can; the failures, each with its error."""
    failures: list[tuple[Any, BaseException]] = []
    for done, target in enumerate(targets, start=1):
        try:
            run_operation(context, operation, target)
        except Exception as error:  # noqa: BLE001 - reported per domain
            failures.append((target, error))
        progress(done, len(targets), target.name)
    return failures
