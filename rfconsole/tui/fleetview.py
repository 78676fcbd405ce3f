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


def statuses_and_problems(context: ConsoleContext) -> tuple[list[Any], dict[str, Any]]:
    """Every reachable host's domains, and for each host that cannot be reached (by name) its error."""
    found, problems = context.fleet.collect_statuses()
    down = [state.name for state in context.fleet.host_states() if not state.connected]
    by_host = {}
    for name in down:
        by_host[name] = next((p for p in problems if getattr(p, "host", None) == name), None) or next(
            (state.problem for state in context.fleet.host_states() if state.name == name), f"host {name} cannot be reached"
        )
    return list(found), by_host


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
    """The switch a VM serves (its datapath id) and, while on-demand boot runs, whether it is connected."""
    ondemand = context.switches  # rfconsole.ondemand's OnDemand, when the console started it
    datapaths = set(ondemand.mapping.datapaths_of(status.name)) if ondemand is not None else set()
    vm = RFTEST2_VMS.get(status.name)
    if not datapaths and vm is not None:
        datapaths = {vm.datapath_id}
    if not datapaths:
        return ""
    ids = ",".join(f"{dp:x}" for dp in sorted(datapaths))
    if ondemand is None:
        return f"dp {ids}"
    connected = any(ondemand.registry.get(dp) is not None for dp in datapaths)
    return f"dp {ids} {'up' if connected else 'down'}"


CONFIRMED = {"destroy", "undefine", "redeploy"}  # the console asked first, naming the domain and host


def run_operation(context: ConsoleContext, operation: str, target: Any) -> str:
    """One key, one Fleet call. After the console's confirmation, ``force`` lets Fleet act on a
    domain without rfconsole's mark (Fleet's own rule: only with an explicit confirmation)."""
    fleet = context.fleet
    if operation == "pause":
        paused = state_label(target) == "paused"
        return (fleet.resume if paused else fleet.suspend)(target.name, host=target.host)
    if operation in ("define", "redeploy"):
        document = context.store.load(target.name)
        if operation == "define":
            return fleet.define(document, host=target.host)
        return fleet.redeploy(document, host=target.host, force=True)
    if operation in CONFIRMED:
        return getattr(fleet, operation)(target.name, host=target.host, force=True)
    return getattr(fleet, operation)(target.name, host=target.host)


def run_many(
    context: ConsoleContext, operation: str, targets: list[Any], progress: Callable[[int, int, str], None]
) -> list[tuple[Any, BaseException]]:
    """Every target through Fleet.run_many (concurrently); the failures, each with its error."""
    by_key = {row_key(target): target for target in targets}

    def one(key: str) -> str:
        return run_operation(context, operation, by_key[key])

    def report(result: Any, done: int, total: int) -> None:
        progress(done, total, by_key[result.name].name)

    results = context.fleet.run_many(one, list(by_key), report)
    return [(by_key[result.name], result.error) for result in results if not result.ok]
