"""A sparkline drawn in one table cell (Textual's Sparkline is a widget, a DataTable cell needs text)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

BARS = "▁▂▃▄▅▆▇█"
HISTORY = 12


def sparkline(values: Iterable[float], width: int = HISTORY, ceiling: float = 100.0) -> str:
    """One bar per value, scaled to ``ceiling`` (CPU % of the domain's vCPUs), left-padded to ``width``."""
    points = list(values)[-width:]
    if not any(points):  # shut off or idle: a flat line says nothing, and a blank cell never needs redrawing
        return " " * width
    bars = "".join(BARS[min(len(BARS) - 1, max(0, int(value / ceiling * (len(BARS) - 1) + 0.5)))] for value in points)
    return bars.rjust(width)


def history() -> deque[float]:
    return deque(maxlen=HISTORY)
