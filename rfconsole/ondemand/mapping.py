"""Which VMs must run for which switch: datapath id -> VM names.

Two sources, merged: RouteFlow's CSV (``vm_id`` is the VM's eth0 MAC, matched against the
MACs in the VMs' XML in XML/), and the explicit map of rfconsole.toml's [ondemand.map] (read
by rfconsole.config), which wins for the datapath ids it names. ``MapSource`` says when the CSV
or XML/ changed since the map was read (a VM added with its rows: ``xml new --routeflow-config``),
so the booter reads it again when the next switch comes up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rfconsole.model.rftest2 import RouteflowMap, read_routeflow_csv
from rfconsole.ondemand.registry import format_datapath_id
from rfconsole.store import Store


@dataclass
class DatapathMap:
    vms: dict[int, tuple[str, ...]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what could not be matched, for the log
    routeflow: RouteflowMap | None = None  # RouteFlow's CSV as read (its rows: each VM port's switch port)

    def for_datapath(self, datapath_id: int) -> tuple[str, ...]:
        return self.vms.get(datapath_id, ())

    def datapaths_of(self, vm: str) -> set[int]:
        return {datapath_id for datapath_id, names in self.vms.items() if vm in names}


def build_datapath_map(
    store: Store | None,
    routeflow_csv: str | os.PathLike[str] | None = None,
    explicit: Mapping[int, Sequence[str]] | None = None,
    strict: bool = True,
) -> DatapathMap:
    """The map from RouteFlow's CSV (VMs found in ``store`` by MAC) and the ``explicit`` entries.
    ``strict``: a bad row of the CSV raises CsvError; else the rows that can be read are used and
    the others are told in ``notes`` (a file that cannot be read at all raises CsvError either way)."""
    result = DatapathMap()
    if routeflow_csv is not None:
        routeflow = read_routeflow_csv(routeflow_csv, strict=strict)
        result.routeflow = routeflow
        result.notes += [f"{routeflow_csv}: {problem}, skipped" for problem in routeflow.problems]
        specs = list(store.specs().values()) if store is not None else []
        names = routeflow.vm_names(specs)
        for datapath_id, macs in routeflow.datapaths.items():
            found = names.get(datapath_id, ())
            if len(found) < len(macs):
                known = {mac for spec in specs for interface in spec.interfaces for mac in [interface.mac] if mac}
                missing = [mac for mac in macs if mac not in known]
                result.notes.append(
                    f"switch {format_datapath_id(datapath_id)}: no VM in XML/ has MAC {', '.join(missing)} (from {routeflow_csv})"
                )
            if found:
                result.vms[datapath_id] = found
    for datapath_id, mapped in (explicit or {}).items():
        result.vms[datapath_id] = tuple(dict.fromkeys(mapped))
    return result


class MapSource:
    """Where the map comes from, and whether it changed since ``build()`` last read it: the CSV's
    and XML/'s files' sizes and modification times (a stat each; read again only on a change)."""

    def __init__(
        self,
        store: Store | None,
        routeflow_csv: str | os.PathLike[str] | None = None,
        explicit: Mapping[int, Sequence[str]] | None = None,
    ) -> None:
        self.store = store
        self.routeflow_csv = routeflow_csv
        self.explicit = explicit
        self._read: tuple[object, ...] | None = None

    def build(self) -> DatapathMap:
        seen = self._fingerprint()
        mapping = build_datapath_map(self.store, self.routeflow_csv, self.explicit)
        self._read = seen
        return mapping

    def changed(self) -> bool:
        return self._fingerprint() != self._read

    def _fingerprint(self) -> tuple[object, ...]:
        files = [Path(self.routeflow_csv)] if self.routeflow_csv is not None else []
        if self.store is not None:
            files += self.store.paths()
        return tuple(_stamp(path) for path in files)


def _stamp(path: Path) -> tuple[str, int, int, int] | None:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return (str(path), status.st_ino, status.st_size, status.st_mtime_ns)
