"""The wizard's field widgets: a field's row (label, widget, hint, error), a network interface's
row, and the words its problems are told in (tui/screens/wizard.py places them)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from textual.app import ComposeResult
from textual.containers import HorizontalGroup, Vertical
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label

from rfconsole.model.errors import Problem, field_words
from rfconsole.model.spec import Interface

NETWORK_PREFIX = "network:"  # in a NIC's source field: a libvirt network, not a bridge


def field_row(label: str, widget: Widget, name: str, hint: str = "") -> Vertical:
    """A label, the widget and, under it, the place for this field's error."""
    hint_label = Label(hint, classes="field-hint", id=f"h-{name}")
    hint_label.display = bool(hint)
    error_label = Label("", classes="field-error", id=f"e-{name}")
    error_label.display = False
    parts: list[Widget] = [Label(label, classes="field-label"), widget, hint_label, error_label]
    return Vertical(*parts, classes="field", id=f"row-{name}")


def problem_lines(problems: list[Problem], fields: Collection[str], elsewhere: str) -> dict[str, list[str]]:
    """Each problem in words, under the field it belongs to (a nested one under its parent: eth0's
    MAC under the interfaces), or ``elsewhere`` when no such field is shown."""
    by_field: dict[str, list[str]] = {}
    for problem in problems:
        field = problem.field.split(".")[0]
        given = "" if problem.value in (None, "") else f" (given: {getattr(problem.value, 'value', problem.value)})"
        where = f"{field_words(problem.field)}: " if "." in problem.field else ""
        by_field.setdefault(field if field in fields else elsewhere, []).append(f"✗ {where}{problem.message}{given}")
    return by_field


class NicRow(HorizontalGroup):
    """One network interface, editable: MAC, bridge, host-side device, Open vSwitch port."""

    def __init__(self, index: int, nic: Interface | None) -> None:
        super().__init__(classes="nic")
        self.index = index
        self.nic = nic

    def compose(self) -> ComposeResult:
        nic = self.nic
        yield Label(f"eth{self.index}", classes="nic-name")
        yield Input(nic.mac or "" if nic else "", placeholder="MAC", classes="nic-mac", compact=True)
        source = (nic.bridge or (f"{NETWORK_PREFIX}{nic.network}" if nic.network else "")) if nic else ""
        yield Input(source, placeholder="bridge, or network:NAME", classes="nic-bridge", compact=True)
        yield Input(nic.target_dev or "" if nic else "", placeholder="host dev", classes="nic-dev", compact=True)
        # compact: the row is one line high, and a bordered checkbox showed only its top border there
        yield Checkbox("OVS", bool(nic and nic.virtualport), classes="nic-ovs", compact=True)

    def interface(self) -> dict[str, Any]:
        """The NIC as typed; before the row has drawn its fields, the NIC it was given."""
        nic = self.nic
        if not self.query(".nic-mac"):
            given = nic.model_dump() if nic is not None else {}
            return {key: given.get(key) for key in ("mac", "bridge", "network", "target_dev", "virtualport", "model")}
        mac, source, dev = (self.query_one(f".nic-{part}", Input).value.strip() for part in ("mac", "bridge", "dev"))
        on_network = source.startswith(NETWORK_PREFIX)  # a libvirt network: "network:default"
        return {
            "mac": mac or None,
            "bridge": None if on_network else source or None,
            "network": source.removeprefix(NETWORK_PREFIX) if on_network else None,
            "target_dev": dev or None,
            "virtualport": "openvswitch" if self.query_one(".nic-ovs", Checkbox).value else None,
            "model": nic.model if nic is not None else None,  # not shown; kept as given
        }
