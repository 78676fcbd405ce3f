"""A copy of the field table in use (model/fields.py) for a test, with everything derived from it
rebuilt by the same functions the modules use at import: the bindings and `xml set` keys
(fields.py), the rules' tables (rules.py) and the pydantic models (spec.py). The real table is
never edited; monkeypatch puts everything back after the test."""

from __future__ import annotations

from dataclasses import replace

import rfconsole.model
from rfconsole.model import fields, rules, spec
from rfconsole.model.fields import Binding


def use_rows(monkeypatch, domain_rows: tuple[Binding, ...] | None = None, interface_rows: tuple[Binding, ...] | None = None, disk_rows: tuple[Binding, ...] | None = None) -> None:
    domain_rows = fields.DOMAIN_ROWS if domain_rows is None else domain_rows
    interface_rows = fields.INTERFACE_FIELDS if interface_rows is None else interface_rows
    disk_rows = fields.DISK_FIELDS if disk_rows is None else disk_rows
    devices = {id(fields.INTERFACE_FIELDS): interface_rows, id(fields.DISK_FIELDS): disk_rows}
    domain_rows = tuple(replace(row, kind=devices.get(id(row.kind), row.kind)) for row in domain_rows)  # interfaces, disks: the copies
    for name, value in {
        "DOMAIN_ROWS": domain_rows,
        "INTERFACE_FIELDS": interface_rows,
        "DISK_FIELDS": disk_rows,
        "DOMAIN_FIELDS": fields.bindings(domain_rows),
        "SET_KEYS": fields.set_keys(domain_rows),
        "CLEARABLE_KEYS": fields.clearable_keys(domain_rows),
    }.items():
        monkeypatch.setattr(fields, name, value)
    tables = {
        "INTERFACE_RULES": rules.rule_table(interface_rows),
        "DISK_RULES": rules.rule_table(disk_rows),
        "KERNEL_BOOT_RULES": rules.group_table(domain_rows, "kernel_boot"),
        "DOMAIN_RULES": rules.rule_table(domain_rows),
    }
    for name, table in tables.items():
        monkeypatch.setattr(rules, name, table)
    for name, model in zip(("Interface", "Disk", "KernelBoot", "DomainSpec"), spec.models(*tables.values())):
        monkeypatch.setattr(spec, name, model)
        monkeypatch.delattr(rfconsole.model, name, raising=False)  # its lazy names: found again in spec
