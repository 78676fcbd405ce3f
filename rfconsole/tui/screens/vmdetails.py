"""One VM in detail (``i`` on the table): state and why, host, hypervisor, vCPUs and memory as
defined and live, CPU and memory over time, disk and network rates over time, each NIC with its Open vSwitch port, the OpenFlow
switch port RouteFlow's CSV maps it to and the guest's addresses, disks, the file in XML/ against
libvirt's definition, and a log of the VM's lifecycle events and on-demand boots.

Everything is gathered by ``Fleet.details`` (rfconsole/virt/details.py) on a worker thread; this
screen only renders it, again at every event of the VM and every stats interval."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from rfconsole.tui import keymap
from rfconsole.tui.background import in_background
from rfconsole.tui.context import console_app, opened
from rfconsole.tui.widgets.keybar import KeyBar
from rfconsole.tui.widgets.sparkline import HISTORY, sparkline
from rfconsole.virt.details import event_words
from rfconsole.virt.stats import ResourceHistory, human_rate

SAMPLES = HISTORY * 3
WIDE_COLUMNS = 120  # below this the NICs are listed one wrapping line each, not in seven columns


def plain(words: str) -> Text:
    """Text as it is: a name, path or libvirt message with "[...]" in it is not read as Rich markup."""
    return Text(words)


class VmDetailsScreen(Screen):
    KEYMAP = (keymap.DETAILS,)
    BINDINGS = keymap.DETAILS.bindings()

    def __init__(self, name: str, host: str) -> None:
        super().__init__()
        self.vm = name
        self.host_name = host
        self.details: Any = None
        self.shown: dict[str, Any] = {}  # what each part of the screen shows (Rich renderables)
        self.cpu: deque[float] = deque(maxlen=SAMPLES)
        self.memory: deque[float] = deque(maxlen=SAMPLES)
        self.resources = ResourceHistory(length=SAMPLES)  # disk and network rates, from each refresh's counters

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="details"):
            yield Static("reading…", id="details-summary")
            yield Static("", id="details-nics")
            yield Static("", id="details-disks")
            yield Static("", id="details-snapshots")
            yield Static("", id="details-xml")
            yield Static("", id="details-log")
        yield KeyBar()

    def on_resize(self) -> None:
        if self.details is not None:
            self._show(self.details, sample=False)

    def on_mount(self) -> None:
        self.sub_title = f"{self.vm} on {self.host_name}"
        console_app(self).fleet_events.subscribe(self, self._fleet_event)
        self.refresh_details()
        self.set_interval(max(0.5, float(opened(self).fleet.stats_interval)), self.refresh_details)

    def on_unmount(self) -> None:
        console_app(self).fleet_events.unsubscribe(self)

    def _fleet_event(self, event: Any) -> None:
        if getattr(event, "domain", None) == self.vm or getattr(event, "host", None) == self.host_name:
            self.refresh_details()

    def refresh_details(self) -> None:
        # a VM undefined or a host gone is shown in place of the details
        in_background(self, f"details of {self.vm}", lambda: opened(self).fleet.details(self.vm, self.host_name),
                      self._show, self._show_problem, group="details", exclusive=True)

    def action_refresh(self) -> None:
        self.refresh_details()

    def action_close(self) -> None:
        self.app.pop_screen()

    # ---- rendering --------------------------------------------------------------------------

    def _show_problem(self, error: BaseException) -> None:
        message = getattr(error, "message", str(error))
        self.shown["details-summary"] = Text(f"{self.vm} on {self.host_name}: {message}", style="bold red")
        self.query_one("#details-summary", Static).update(self.shown["details-summary"])

    def _show(self, details: Any, sample: bool = True) -> None:
        self.details = details
        if sample:
            self.cpu.append(details.cpu_percent if details.state.is_active else 0.0)
            self.memory.append(float(details.memory_live_mib or 0))
            if details.counters is not None:
                self.resources.update([details.counters])
        self.shown = {
            "details-summary": self._summary(details),
            "details-nics": self._nics(details),
            "details-disks": self._disks(details),
            "details-snapshots": self._snapshots(details),
            "details-xml": self._xml(details),
            "details-log": self._log(details),
        }
        for widget_id, renderable in self.shown.items():
            self.query_one(f"#{widget_id}", Static).update(renderable)

    def _summary(self, details: Any) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        table.add_row("State", plain(details.state_words))
        table.add_row("Host", plain(f"{details.host} ({details.uri})"))
        table.add_row("Hypervisor", plain(str(details.hypervisor or "?")))
        table.add_row("vCPUs", plain(details.vcpus_words))
        table.add_row("Memory", plain(details.memory_words))
        table.add_row("CPU %", f"{details.cpu_percent:5.1f}  {sparkline(self.cpu, width=SAMPLES)}")
        ceiling = float(details.memory_defined_mib or max(self.memory, default=1) or 1)
        table.add_row("Memory over time", f"{'':5}  {sparkline(self.memory, width=SAMPLES, ceiling=ceiling)}")
        table.add_row("Disk read, write", self._rates(details, "disk_read_bytes_per_s", "disk_write_bytes_per_s"))
        table.add_row("Network in, out", self._rates(details, "net_rx_bytes_per_s", "net_tx_bytes_per_s"))
        return table

    def _rates(self, details: Any, first: str, second: str) -> Text:
        """Two rates now (per second), and the sum of both over time."""
        if details.counters is None:
            return plain(f"— (host {details.host}'s libvirt driver keeps no such counters)")
        history = self.resources.history(details.name, details.host)
        now = history[-1] if history else None
        if now is None or len(history) < 2:
            return plain("measured from the next refresh on")
        words = f"{human_rate(getattr(now, first))}/s, {human_rate(getattr(now, second))}/s"
        totals = [getattr(step, first) + getattr(step, second) for step in history[1:]]
        return plain(f"{words}  {sparkline(totals, width=SAMPLES, ceiling=max(totals) or 1.0)}")

    def _nics(self, details: Any) -> Table:
        """A column per fact where the screen is wide; where it is not, one wrapping line per NIC,
        so a MAC or an address is never cut."""
        caption = plain(f"switch ports: {details.switch_note}; addresses: {details.addresses_note}")
        if self.size.width and self.size.width < WIDE_COLUMNS:
            table = Table.grid(padding=(0, 2), expand=True)
            table.add_column(style="bold", no_wrap=True)
            table.add_column(ratio=1)
            table.title, table.title_justify = "Network interfaces", "left"
            for nic in details.nics:
                addresses = ", ".join(map(str, nic.addresses)) or "—"
                table.add_row(plain(nic.name), plain(
                    f"MAC {nic.mac or '?'} · plugged into {nic.plugged_into} · host device {nic.target_dev or '—'} · "
                    f"OVS port {nic.ovs_port or '—'} · OpenFlow switch:port {nic.switch_words or '—'} · addresses {addresses}"))
            if not details.nics:
                table.add_row("—", "no network interface")
            table.add_row("", caption)
            return table
        table = Table(title="Network interfaces", title_justify="left", expand=True)
        for heading in ("eth", "MAC", "plugged into", "host device", "OVS port", "OpenFlow switch:port", "guest addresses"):
            table.add_column(heading, overflow="fold")
        for nic in details.nics:
            table.add_row(*map(plain, (
                nic.name, nic.mac or "?", nic.plugged_into, nic.target_dev or "—", nic.ovs_port or "—",
                nic.switch_words or "—", "\n".join(map(str, nic.addresses)) or "—",
            )))
        if not details.nics:
            table.add_row("—", "no network interface", "", "", "", "", "")
        table.caption = caption
        table.caption_justify = "left"
        return table

    def _disks(self, details: Any) -> Table:
        table = Table(title="Disks and filesystems", title_justify="left", expand=True)
        for heading in ("target", "device", "source", "bus"):
            table.add_column(heading, overflow="fold")
        for disk in details.disks:
            table.add_row(*map(plain, (disk.target or "—", disk.device or "—", disk.source or "—", disk.bus or "—")))
        if not details.disks:
            table.add_row("—", "none (direct kernel boot, or none declared)", "", "")
        return table

    def _snapshots(self, details: Any) -> Table:
        table = Table(title="Snapshots (l on the table: revert, delete, take)", title_justify="left", expand=True)
        for heading in ("", "name", "taken (UTC)", "state then", "memory"):
            table.add_column(heading)
        for info in details.snapshots:
            taken = info.created.strftime("%Y-%m-%d %H:%M:%S") if info.created else "?"
            table.add_row("*" if info.current else "", plain(info.name), taken, plain(info.state), "yes" if info.memory else "no")
        if not details.snapshots:
            table.add_row("—", plain(details.snapshots_note or "none"), "", "", "")
        return table

    def _xml(self, details: Any) -> Text:
        text = Text("XML/ file  ", style="bold")
        text.append(str(details.xml_file) if details.xml_file else "none")
        style = {True: "green", False: "yellow", None: "dim"}[details.xml_agrees]
        text.append(f"  {details.xml_words}: " if details.xml_agrees is not None else "  ", style=style)
        text.append(details.xml_note)
        return text

    def _log(self, details: Any) -> Table:
        table = Table(title="Lifecycle events and on-demand boots (since rfconsole started)", title_justify="left", expand=True)
        table.add_column("time")
        table.add_column("what")
        entries = [(event.time, event_words(event)) for event in details.events]
        entries += self._boots()
        for when, what in sorted(entries)[-50:]:
            table.add_row(time.strftime("%H:%M:%S", time.localtime(when)), plain(what))
        if not entries:
            table.add_row("—", "nothing yet")
        return table

    def _boots(self) -> list[tuple[float, str]]:
        """The on-demand booter's records for this VM (its times are monotonic: turned into wall time)."""
        switches = opened(self).switches
        records = getattr(getattr(switches, "booter", None), "records", None) or []
        offset = time.time() - time.monotonic()
        found = []
        for record in list(records):
            if record.vm != self.vm:
                continue
            words = f"on-demand boot: switch {record.datapath_id:016x} came up → {record.outcome}"
            if record.error:
                words += f" ({record.error})"
            found.append((record.switch_up + offset, words))
        return found
