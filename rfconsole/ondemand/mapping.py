"""Which VMs must run for which switch: datapath id -> VM names.

Two sources, merged: RouteFlow's CSV (``vm_id`` is the VM's eth0 MAC, matched against the
MACs in the VMs' XML in XML/), and the explicit map of rfconsole.toml's [ondemand.map] (read
by rfconsole.config), which wins for the datapath ids it names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rfconsole.model.rftest2 import read_routeflow_csv
from rfconsole.ondemand.registry import format_datapath_id
from rfconsole.store import Store


@dataclass
class DatapathMap:
    vms: dict[int, tuple[str, ...]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what could not be matched, for the log

    def for_datapath(self, datapath_id: int) -> tuple[str, ...]:
        return self.vms.get(datapath_id, ())

    def datapaths_of(self, vm: str) -> set[int]:
        return {datapath_id for datapath_id, names in self.vms.items() if vm in names}


def build_datapath_map(
    store: Store | None,
    routeflow_csv: str | os.PathLike[str] | None = None,
    explicit: Mapping[int, Sequence[str]] | None = None,
) -> DatapathMap:
    """The map from RouteFlow's CSV (VMs found in ``store`` by MAC) and the ``explicit`` entries."""
    result = DatapathMap()
    if routeflow_csv is not None:
        routeflow = read_routeflow_csv(routeflow_csv)
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
    for datapath_id, names in (explicit or {}).items():
        result.vms[datapath_id] = tuple(dict.fromkeys(names))
    return result
