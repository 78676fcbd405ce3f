"""``rfconsole xml``: write, check, change and show domain XML files, headless (parsers: xml_args.py).

The same core the console uses: the model builds and edits the XML, the store writes it.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rfconsole.cli import EXIT_FAILED, EXIT_OK
from rfconsole.errors import RfconsoleError, UsageError
from rfconsole.model import fields
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.errors import InvalidSpec, Problem
from rfconsole.model.rules import house_rule_problems_of, settings_json
from rfconsole.store import Store, Workdir

# The spec models (pydantic) and the schema are imported by the commands that build a spec or
# write a file (new, set) and the check (validate): `xml show` reads without them (docs/performance.md).
if TYPE_CHECKING:
    from rfconsole.model.rftest2 import RouteflowRow
    from rfconsole.model.spec import DomainSpec, Interface

# ----------------------------------------------------------------------------- helpers
def _store(args: argparse.Namespace) -> Store:
    return Store(Workdir(getattr(args, "workdir", None) or Path.cwd()))


def warn(message: str) -> None:
    print(f"rfconsole: warning: {message}", file=sys.stderr)


def _absolute(path: str | None) -> Path | None:
    if path is None or path == "":
        return None
    return Path(os.path.expanduser(path)).absolute()  # an unknown ~user stays as written (Path.expanduser raises)


def _load(store: Store, file: str) -> DomainDocument:
    """FILE as the console reads it (Store.load), except that an existing file is always a path."""
    return store.load(Path(file) if os.path.lexists(file) else file)


def _warn_missing(spec: DomainSpec) -> None:
    """A path the VM needs that holds something it can never use (a FIFO, /dev/zero …) refuses
    the command; a missing one is a warning (the file may be made later)."""
    from rfconsole.model.errors import InvalidSpec
    from rfconsole.model.kinds import unusable_paths
    from rfconsole.model.spec import missing_files

    boot = spec.kernel_boot
    unusable = unusable_paths(spec.image, spec.image_kind, boot.kernel if boot else None, boot.initrd if boot else None)
    if unusable:
        raise InvalidSpec(unusable)
    for problem in missing_files(spec):
        warn(f"{problem.field} {problem.value}: {problem.message} (the VM cannot start until it does)")


def _check_schema(document: DomainDocument, what: str) -> None:
    from rfconsole.model.schema import schema_problems

    problems = schema_problems(document)
    if problems:
        raise RfconsoleError(
            f"{what} would not follow libvirt's domain schema: " + "; ".join(str(problem) for problem in problems),
            hint="nothing was written; please report this as an rfconsole bug",
        )


def _write(store: Store, document: DomainDocument, output: str | None, force: bool) -> Path | None:
    if output == "-":
        sys.stdout.write(document.to_xml())
        return None
    target = _absolute(output) if output else None
    return store.save(document, path=target, overwrite=force, through_link=target is not None)


# ----------------------------------------------------------------------------- xml new
def run_new(args: argparse.Namespace) -> int:
    from rfconsole.model.rftest2 import rftest2_vm

    store = _store(args)
    if sum(1 for given in (args.no_image, args.image, args.base) if given) > 1:
        raise UsageError("--image, --base and --no-image contradict each other: give one")
    if (args.initrd or args.cmdline) and not args.kernel:
        raise UsageError("--initrd and --cmdline need --kernel (direct kernel boot)")
    if not args.preset and not args.name:
        raise UsageError("a new VM needs --name (or --preset, whose name is the default)")
    settings = _flag_settings(args)
    extra_nics = [parse_nic(text) for text in args.nic]
    from rfconsole.images import (  # qemu-img and friends: `xml new` only
        OVERLAY_SUFFIX,
        Images,
        overlay_name_for,
    )
    from rfconsole.transaction import NewVM, write_new_vm

    images = Images(store.workdir)
    overlay = None
    if args.base:
        if str(args.hypervisor).strip().lower() == "lxc":
            raise UsageError("--base gives a VM a qcow2 overlay; an LXC container's root is a folder (use --image)")
        images.base(args.base)  # an unknown base: refused at once (the transaction looks again under the lock)
        name = args.name or rftest2_vm(args.preset).name
        file_name = overlay_name_for(rftest2_vm(args.preset).image_name) if args.preset else f"{name}{OVERLAY_SUFFIX}"
        overlay = settings["image"] = images.overlay_path(file_name)
    # The id is picked and every file written under XML/'s lock, so two `xml new` at once never
    # get the same id; the files (overlay, XML, CSV rows) are written all or none (transaction.py).
    with store.locked() if args.output is None else nullcontext():
        spec = _new_spec(args, store, settings, extra_nics)
        document = DomainDocument.from_spec(spec)
        _check_schema(document, f"the XML of {spec.name}")
        rows = _routeflow_rows(args, spec)
        if overlay is None:
            _warn_missing(spec)
        target = _absolute(args.output) if args.output and args.output != "-" else None
        csv_path = _absolute(args.routeflow_config) if args.routeflow_config else None
        written = write_new_vm(
            store,
            images,
            NewVM(
                document,
                path=target,
                overwrite=args.force,
                through_link=target is not None,
                base=args.base or None,
                overlay=overlay,
                replace_overlay=args.force,
                routeflow_csv=csv_path,
                rows=tuple(rows),
                print_xml=_write_stdout if args.output == "-" else None,
            ),
        )
    if written.overlay is not None and written.base is not None:
        kept = f"; the old file is kept as {written.overlay_backup}" if written.overlay_backup else ""
        print(f"created {written.overlay} (qcow2 overlay of {written.base.name}{kept})", file=sys.stderr if written.xml is None else sys.stdout)
    if written.xml is not None:
        print(f"wrote {written.xml} ({spec.hypervisor} VM {spec.name}, id {spec.id})")
    if csv_path is not None:
        from rfconsole.model.rftest2 import rows_added_words

        print(rows_added_words(csv_path, spec.name, rows, list(written.rows_added)), file=sys.stdout if written.xml else sys.stderr)  # -o -: stdout is the XML
    elif written.xml is not None:
        print_rows(spec.name, rows)
    return EXIT_OK


def _routeflow_rows(args: argparse.Namespace, spec: DomainSpec) -> list[RouteflowRow]:
    """The new VM's rows of RouteFlow's CSV (model.rftest2.new_vm_rows); the transaction checks
    them against --routeflow-config's file before anything is written."""
    from rfconsole.model.rftest2 import new_vm_rows, parse_datapath_id

    datapath_id = parse_datapath_id(args.datapath_id, "--datapath-id") if args.datapath_id is not None else None
    return new_vm_rows(spec, datapath_id, asked=bool(args.routeflow_config))


def print_rows(name: str, rows: list[RouteflowRow]) -> None:
    """A new router's rows, for the user to add to RouteFlow's CSV by hand."""
    from rfconsole.model.rftest2 import format_routeflow_row

    if rows:
        print(f"RouteFlow's CSV rows for {name} (add them to the CSV RFServer reads, or give --routeflow-config FILE):")
        for row in rows:
            print(f"  {format_routeflow_row(row)}")


def _new_spec(args: argparse.Namespace, store: Store, settings: dict[str, Any], extra_nics: list[Interface]) -> DomainSpec:
    from rfconsole.model.rftest2 import preset_spec, rftest2_vm
    from rfconsole.model.spec import DomainSpec

    if args.preset:
        preset = rftest2_vm(args.preset)
        bridge = None if args.management_bridge.lower() == "none" else args.management_bridge
        settings["id"] = args.id if args.id is not None else store.suggest_id(preset.default_id, replacing=args.name or preset.name)
        spec = preset_spec(preset, settings.pop("hypervisor"), store.workdir, management_bridge=bridge, data_bridge=args.data_bridge, **settings)
        if args.no_image:
            spec = spec.with_changes(image=None, image_kind=None)
        if extra_nics:
            spec = spec.with_changes(interfaces=(*spec.interfaces, *extra_nics))
    else:
        settings["id"] = args.id if args.id is not None else store.suggest_id(replacing=args.name)
        spec = DomainSpec(**settings, interfaces=tuple(extra_nics))
    return spec


def _flag_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The spec's settings the field table's options of ``xml new`` give (nested ones, such as
    kernel_boot.kernel, in their own dict); an option not given is no setting."""
    settings: dict[str, Any] = {}
    for binding in fields.DOMAIN_FIELDS:
        if binding.flag is None:
            continue
        value = getattr(args, binding.flag.dest)
        if binding.host_path:
            value = _absolute(value)
        if value is None:
            continue
        *outer, field = binding.key.split(".")
        place = settings
        for part in outer:
            place = place.setdefault(part, {})
        place[field] = value
    # A nested setting exists when its group's first field is given (--cmdline '' alone is no kernel boot).
    groups = {row.key: fields.group_rows(fields.DOMAIN_ROWS, row.key)[0].set_key for row in fields.DOMAIN_ROWS if row.kind is fields.GROUP}
    return {key: value for key, value in settings.items() if key not in groups or groups[key] in value}


def _nic_keys() -> dict[str, str]:
    """``--nic``'s KEY=VALUE keys, each an Interface field (the field table's nic_key)."""
    return {binding.nic_key: binding.key for binding in fields.INTERFACE_FIELDS if binding.nic_key}


def parse_nic(text: str) -> Interface:
    """``--nic bridge=dp0,ovs,target=vm1.1,mac=…`` as an Interface."""
    from rfconsole.model.spec import Interface

    nic_keys = _nic_keys()
    settings: dict[str, str] = {}
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        if part == "ovs":
            settings["virtualport"] = "openvswitch"
            continue
        key, separator, value = part.partition("=")
        if not separator or key not in nic_keys:
            keys = [f"{binding.nic.name}={binding.nic.metavar}" for binding in fields.INTERFACE_FIELDS if binding.nic is not None]
            raise UsageError(f"--nic {text!r}: {part!r} is not one of {', '.join(keys)}, ovs")
        settings[nic_keys[key]] = value
    try:
        return Interface(**settings)
    except InvalidSpec as error:
        raise InvalidSpec([Problem(f"--nic {text}: {problem.field}", problem.value, problem.message) for problem in error.problems]) from None


# ----------------------------------------------------------------------------- xml validate
def run_validate(args: argparse.Namespace) -> int:
    from rfconsole.model.checks import check_document

    store = _store(args)
    failed = 0
    for file in args.files:
        try:
            document = _load(store, file)
        except RfconsoleError as error:
            failed += 1
            print(f"{file}: invalid\n  - {error.message}")
            continue
        check = check_document(document)
        for warning in check.warnings:
            warn(f"{file}: {warning}")
        if check.errors:
            failed += 1
            print(f"{file}: invalid")
            for problem in check.errors:
                print(f"  - {problem}")
        else:
            print(f"{file}: valid")
    return EXIT_FAILED if failed else EXIT_OK


# ----------------------------------------------------------------------------- xml set
def run_set(args: argparse.Namespace) -> int:
    from rfconsole.model.checks import parse_changes

    store = _store(args)
    changes = parse_changes(args.changes)
    # One command is one edit: read, change and write under XML/'s lock, so two `xml set` of
    # one VM at once both land (each reads what the other wrote). An editor's stale text is
    # still refused by Store.save's check of what was read.
    with store.locked():
        return _set(args, store, changes)


def _set(args: argparse.Namespace, store: Store, changes: Any) -> int:
    from rfconsole.model.checks import changed_spec
    from rfconsole.model.schema import schema_problems

    document = _load(store, args.file)
    before_spec_values = document.values()
    before_schema = schema_problems(document)
    changed = changed_spec(document, changes)
    for warning in changed.warnings:
        warn(f"{args.file}: {warning}")
    spec = changed.spec
    document.apply(spec)
    for dropped in document.dropped:
        warn(f"{args.file}: removed {dropped}")
    for fixed in document.normalise():
        warn(f"{args.file}: {fixed}")
    after_schema = schema_problems(document)
    if after_schema and not before_schema:
        _check_schema(document, args.file)
    for problem in after_schema:
        warn(f"{args.file} did not follow libvirt's schema before this change either: {problem}")
    _warn_missing(spec)
    if args.output:
        path = _write(store, document, args.output, args.force)
    else:
        named = os.path.lexists(args.file)  # a path on the command line, not a VM's name: a link there is the user's
        path = store.save(document, path=Path(document.source).absolute(), overwrite=True, through_link=named)
    after = document.values()
    keys = [binding.key.split(".")[0] for binding in fields.DOMAIN_FIELDS]
    changed_keys = [key for key in dict.fromkeys(keys) if before_spec_values.get(key) != after.get(key)]
    if path is not None:
        print(f"wrote {path}" + (f" (changed: {', '.join(changed_keys)})" if changed_keys else " (nothing to change)"))
    return EXIT_OK


# ----------------------------------------------------------------------------- xml show
def run_show(args: argparse.Namespace) -> int:
    """Any document libvirt accepts is shown; rfconsole's own rules it breaks are warnings. Read
    without pydantic (DomainDocument.settings): what the spec model would read, word for word."""
    store = _store(args)
    document = _load(store, args.file)
    for note in document.notes():
        warn(f"{args.file}: {note}")
    settings = document.settings()
    for problem in house_rule_problems_of(settings):
        warn(f"{args.file}: rfconsole would not create this: {problem}")
    data = settings_json(settings)
    data["owned"] = document.owned
    if args.json:
        import json

        print(json.dumps(data, indent=2))
        return EXIT_OK
    width = max(len(key) for key in data)
    rows = {row.key: row for row in fields.DOMAIN_ROWS}
    for key, value in data.items():
        row = rows.get(key)
        if row is not None and row.many:  # interfaces, disks: one line each
            print(f"{key:<{width}}  {len(value)}")
            for index, nic in enumerate(value):
                parts = [f"{name}={item}" for name, item in nic.items() if item is not None]
                print(f"{'':<{width}}  [{index}] {' '.join(parts)}")
        elif row is not None and row.kind is fields.GROUP and value:  # kernel_boot
            print(f"{key:<{width}}  " + " ".join(f"{name}={item}" for name, item in value.items() if item is not None))
        else:
            print(f"{key:<{width}}  {'-' if value is None else value}")
    return EXIT_OK




def _write_stdout(text: str) -> None:
    sys.stdout.write(text)
