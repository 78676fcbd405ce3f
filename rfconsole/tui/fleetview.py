"""The console's view of rfconsole.virt: labels for the table and the dispatch of one key to one Fleet call.

No lifecycle logic lives here: every operation is one call into Fleet.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text

from rfconsole.errors import RfconsoleError
from rfconsole.model.rftest2 import RFTEST2_VMS
from rfconsole.tui.context import ConsoleContext
from rfconsole.virt.events import DomainState, DomainStatus, HostState, Outcome

SLOTS = tuple(RFTEST2_VMS)  # rfvmA–rfvmD, shown first

OPERATION_WORDS = {
    "start": "start",
    "shutdown": "shut down",
    "destroy": "destroy (power off)",
    "undefine": "undefine",
    "define": "define",
    "redeploy": "redeploy (destroy, undefine, define, start)",
    "pause": "pause or resume",
    "snapshot": "snapshot",
    "reset": "reset",
    "reboot": "reboot",
    "power_cycle": "power-cycle (hard reset)",
    "autostart": "turn autostart on or off for",
}
OPERATION_WARNINGS = {
    "destroy": "The guest is powered off at once, without shutting down.",
    "undefine": "libvirt forgets the domain; its file in XML/ stays (with no file there, libvirt's definition is saved to XML/ first).",
    "power_cycle": "The guest restarts at once, as with a reset button: it is not asked, and what it did not write to disk is lost.",
    "redeploy": "The running guest is powered off and redefined from its file in XML/.",
    "reset": "Everything the guest wrote since its snapshot (or, without one, since its overlay of the base was made) "
    "is lost, and its running state; it runs again afterwards.",
}


def row_key(status: DomainStatus) -> str:
    return f"{status.host}/{status.name}"


def slot_order(status: DomainStatus) -> int:
    return SLOTS.index(status.name) if status.name in SLOTS else len(SLOTS)


def _label(value: Any) -> str:
    return str(getattr(value, "value", value))


def state_label(status: DomainStatus) -> str:
    return _label(status.state)


def hypervisor_label(status: DomainStatus) -> str:
    return _label(status.hypervisor)


def cpu_percent(status: DomainStatus) -> float:
    return float(status.cpu_percent or 0.0)


def statuses_and_problems(context: ConsoleContext) -> tuple[list[DomainStatus], dict[str, Any]]:
    """Every reachable host's domains, and for each host that cannot be reached (by name) its error."""
    found, problems = context.fleet.lab_statuses()  # with the VMs only in XML/, to define and start from here
    down = [state.name for state in context.fleet.host_states() if not state.connected]
    by_host = {}
    for name in down:
        by_host[name] = next((p for p in problems if getattr(p, "host", None) == name), None) or next(
            (state.problem for state in context.fleet.host_states() if state.name == name), f"host {name} cannot be reached"
        )
    return list(found), by_host


def status_of(context: ConsoleContext, name: str, host: str) -> DomainStatus | None:
    """The domain's status now: its host's, else (undefined there) its row as a VM only in XML/,
    else None when it is gone from both."""
    status = context.fleet.status(name, host=host)
    if status is not None:
        return status
    return next((s for s in context.fleet.stored_only(context.fleet.statuses()) if s.name == name and s.host == host), None)


def is_undefined(status: DomainStatus) -> bool:
    return status.state is DomainState.UNDEFINED


def operation_word(operation: str, target: DomainStatus) -> str:
    """What the key did to this domain, in words ("pause" resumes a paused domain)."""
    if operation == "pause":
        return "resume" if state_label(target) == "paused" else "pause"
    if operation == "start" and is_undefined(target):
        return "define and start"
    return "shut down" if operation == "shutdown" else operation


def needs_nothing(operation: str, target: DomainStatus) -> str | None:
    """Why ``operation`` has nothing to do on this domain as it is now (asked before any confirmation)."""
    if target.state is DomainState.UNKNOWN:
        return f"host {target.host} cannot be reached: {target.name}'s state there is unknown (the line under the title says when it is retried)"
    if operation in ("destroy", "shutdown") and not target.state.is_active:
        return f"{target.name} on host {target.host} is {state_label(target)}: nothing to {OPERATION_WORDS[operation]}"
    if operation == "reboot" and state_label(target) != "running":
        return f"{target.name} on host {target.host} is {state_label(target)}: only a running domain reboots"
    if operation == "power_cycle" and not target.state.is_active:
        return f"{target.name} on host {target.host} is {state_label(target)}: only a running domain can be power-cycled"
    if operation == "pause" and state_label(target) not in ("running", "paused"):
        return f"{target.name} on host {target.host} is {state_label(target)}: only a running domain pauses (a paused one resumes)"
    if operation in ("undefine", "destroy", "shutdown", "pause", "autostart") and is_undefined(target):
        return f"{target.name} is only in XML/, not defined on host {target.host}: define it (f) or start it (s) first"
    return None


def images_by_name(context: ConsoleContext) -> dict[str, str]:
    """The image of each valid file in XML/, shown relative to the working folder when inside it."""
    return {name: context.workdir.shown(settings["image"]) for name, settings in context.store.settings().items() if settings["image"] is not None}


def switch_label(context: ConsoleContext, status: DomainStatus) -> str:
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


CONFIRMED = {"destroy", "undefine", "redeploy", "reset", "power_cycle"}  # the console asked first, naming the domain and host


def run_operation(context: ConsoleContext, operation: str, target: DomainStatus) -> Outcome:
    """One key, one Fleet call. After the console's confirmation, ``force`` lets Fleet act on a
    domain without rfconsole's mark (Fleet's own rule: only with an explicit confirmation)."""
    fleet = context.fleet
    if operation == "start" and is_undefined(target):
        return fleet.up(target.name, host=target.host)  # defined from XML/, then started
    if operation == "autostart":
        return fleet.toggle_autostart(target.name, host=target.host)
    if operation == "pause":
        paused = state_label(target) == "paused"
        return (fleet.resume if paused else fleet.suspend)(target.name, host=target.host)
    if operation == "snapshot":
        return fleet.snapshot_create(target.name, host=target.host)
    if operation in ("define", "redeploy"):
        document = context.store.load(target.name)
        if operation == "define":
            return fleet.define(document, host=target.host)
        return fleet.redeploy(document, host=target.host, force=True)
    if operation in CONFIRMED:
        return getattr(fleet, operation)(target.name, host=target.host, force=True)
    return getattr(fleet, operation)(target.name, host=target.host)


def define_file(context: ConsoleContext, path: Path) -> tuple[str, str, Outcome]:
    """Define the domain of any XML file (read as the store reads XML/): (name, host, what happened)."""
    document = context.store.load(path)
    said = context.fleet.define(document)  # refuses a document without a name, in libvirt's words
    name = document.name or path.stem
    status = context.fleet.status(name)
    return name, status.host if status is not None else context.fleet.host().name, said


def run_many(
    context: ConsoleContext, operation: str, targets: list[DomainStatus], progress: Callable[[int, int, str], None]
) -> list[tuple[DomainStatus, BaseException]]:
    """Every target through Fleet.run_many (concurrently); the failures, each with its error."""
    by_key = {row_key(target): target for target in targets}

    def one(key: str) -> Outcome:
        return run_operation(context, operation, by_key[key])

    def report(result: Any, done: int, total: int) -> None:
        progress(done, total, by_key[result.name].name)

    results = context.fleet.run_many(one, list(by_key), report)
    return [(by_key[result.name], result.error or RfconsoleError(result.message)) for result in results if not result.ok]


# ---- the hosts' line (the home screen's strip under the header) ------------------------------

def _clock(moment: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(moment))


def _host_words(state: HostState, now: float, level: int) -> tuple[str, str]:
    """(what the host is doing, its style): level 0 in words, 1 shorter, 2 without the time it
    went down, 3 a sign only."""
    if state.connected:
        return ("connected" if level == 0 else "●"), "green"
    if state.down_since is None:
        return ("connecting…" if level == 0 else "…"), "yellow"
    if level == 3:
        return "✗", "bold red"
    if state.retry_at is None:
        retry = "retrying now" if level == 0 else "retrying"
    else:
        seconds = max(0, math.ceil(state.retry_at - now))
        retry = f"retrying in {seconds} s" if level == 0 else f"retry {seconds}s"
    since = _clock(state.down_since)
    words = {0: f"down since {since}, {retry}", 1: f"✗ down {since}, {retry}", 2: f"✗ {retry}"}[level]
    return words, "bold red"


def _where(state: HostState) -> str:
    if state.demo:
        return "libvirt's test driver"
    return state.uri


def host_line(states: list[HostState], now: float, width: int) -> Text:
    """Each host's state in one line of at most ``width`` cells: its name, connected / down since
    HH:MM:SS / retrying in N s, and its URI. With several hosts, or a short line, the words
    shrink in steps (URIs of connected hosts first, then every URI, then short words, then signs)
    before the end is cut with '…'."""
    if not states:
        return Text("no host")

    def render(uri_of: Callable[[HostState], bool], level: int) -> Text:
        short = level > 0
        line = Text("host " if len(states) == 1 and not short else "hosts " if not short else "")
        for index, state in enumerate(states):
            if index:
                line.append(" │ ", style="dim")
            words, style = _host_words(state, now, level)
            named_by_uri = state.name == state.uri  # --connect URI without a name in rfconsole.toml
            line.append(state.name if not named_by_uri or not short else _short_uri(state.uri), style="bold")
            line.append(" ")
            line.append(words, style=style)
            if uri_of(state) and not named_by_uri:
                line.append(f" ({_where(state)})", style="dim")
        return line

    steps = (
        (lambda state: True, 0),
        (lambda state: not state.connected, 0),
        (lambda state: False, 0),
        (lambda state: False, 1),
        (lambda state: False, 2),
        (lambda state: False, 3),
    )
    for uri_of, level in steps:
        line = render(uri_of, level)
        if line.cell_len <= width:
            return line
    line.truncate(max(1, width), overflow="ellipsis")
    return line


def _short_uri(uri: str) -> str:
    """qemu+tcp://127.0.0.1:1/system → 127.0.0.1:1; qemu:///system → qemu:///system."""
    _scheme, separator, rest = uri.partition("://")
    machine = rest.split("/", 1)[0] if separator else ""
    return machine or uri
