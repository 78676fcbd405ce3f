"""A new VM's files, written all or nothing: its overlay of a base in Images/, its XML (in XML/ or
a file the user named), its rows in RouteFlow's CSV. The one place of this operation: `xml new`,
`clone` (rfconsole/virt/clone.py) and the console's wizard call ``write_new_vm``.

Under XML/'s lock (Store.locked(), the lock `image delete` takes too): every refusal first, then
the intent (how to undo each step: store.Intent) recorded in XML/.rfconsole.journal, then the
steps; an exception rolls back what was done; at the end the intent is marked committed and its
last step (an old overlay moved into Images/.backup/) done. A process killed anywhere leaves
the journal, and the next rfconsole that takes the lock rolls it back, or finishes it once
committed: the folder is as before, or as after, never in between.

The new overlay is made at a hidden name beside its place, the old one (``--force``) linked to
another, then the new one renamed over the place: the old file stays whole, its relative backing
path unchanged, until the commit.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rfconsole.images import ImageError, Images, image_info
from rfconsole.store import Store, StoreError
from rfconsole.store.journal import Intent, OverlayUndo

if TYPE_CHECKING:
    from rfconsole.model.domainxml import DomainDocument
    from rfconsole.model.rftest2 import RouteflowRow

# Tests and bench/_crashes.py: the process SIGKILLs itself when it reaches this step number of
# write_new_vm (1 = the intent recorded … 8 = the old overlay kept in .backup/, journal still there).
KILL_AT_STEP_VARIABLE = "RFCONSOLE_TEST_KILL_AT_STEP"
STAGED_SUFFIX = ".rfconsole-new"
KEPT_SUFFIX = ".rfconsole-old"


@dataclass(frozen=True)
class NewVM:
    """What to write. ``path``: the XML file (None: XML/NAME.xml); ``print_xml``: instead of a
    file, call this with the XML (``-o -``), as the last step before the commit."""

    document: DomainDocument
    path: Path | None = None
    overwrite: bool = False
    based_on: str | None = None  # with ``overwrite``: the file must still hold this (Store.file_version)
    through_link: bool = False  # ``path`` was named by the user: a link there is written through
    base: str | Path | None = None  # a base's name or path: the VM gets an overlay of it …
    overlay: Path | None = None  # … here
    replace_overlay: bool = False  # an existing file at ``overlay`` is replaced (kept in Images/.backup/)
    routeflow_csv: Path | None = None
    rows: tuple[RouteflowRow, ...] = ()
    print_xml: Callable[[str], None] | None = None

    @property
    def operation(self) -> str:
        return f"writing the VM {self.document.name}"


@dataclass(frozen=True)
class NewVMWritten:
    """What ``write_new_vm`` wrote."""

    name: str
    xml: Path | None  # None: printed (``print_xml``)
    overlay: Path | None = None
    base: Path | None = None
    overlay_backup: Path | None = None  # where the file the overlay replaced is kept
    routeflow_csv: Path | None = None
    rows_added: tuple[RouteflowRow, ...] = ()


def write_new_vm(store: Store, images: Images, plan: NewVM) -> NewVMWritten:
    """Write ``plan``'s files, all or none (see the module's words); StoreError, ImageError or
    RouteflowRowsError for every refusal, before anything is written."""
    if plan.base is None and plan.routeflow_csv is None:  # one file, written atomically: nothing to undo
        if plan.print_xml is not None:
            plan.print_xml(plan.document.to_xml())
            return NewVMWritten(plan.document.name or "", None)
        saved = store.save(plan.document, path=plan.path, overwrite=plan.overwrite, based_on=plan.based_on, through_link=plan.through_link)
        return NewVMWritten(plan.document.name or "", saved)
    with store.locked():
        base, intent = _checked_intent(store, images, plan)
        store.record_intent(intent)
        _step(1)
        try:
            if intent.overlay is not None and base is not None:
                _put_overlay_in_place(images, base, intent.overlay)
            xml: Path | None = None
            if plan.print_xml is None:
                xml = store.save(plan.document, path=plan.path, overwrite=plan.overwrite, based_on=plan.based_on, through_link=plan.through_link)
            _step(5)
            added: list[RouteflowRow] = []
            if plan.routeflow_csv is not None:
                added = store.add_routeflow_rows(plan.routeflow_csv, list(plan.rows))
            _step(6)
            if plan.print_xml is not None:
                plan.print_xml(plan.document.to_xml())
            _step(7)
        except BaseException:
            store.roll_back(intent)
            store.clear_intent()
            raise
        intent.committed = True
        store.record_intent(intent)
        _step(8)
        if intent.overlay is not None:
            intent.overlay.finish()
        _step(9)
        store.clear_intent()
    overlay = intent.overlay
    return NewVMWritten(
        name=plan.document.name or "",
        xml=xml,
        overlay=overlay.target if overlay else None,
        base=base,
        overlay_backup=overlay.backup if overlay and overlay.kept else None,
        routeflow_csv=plan.routeflow_csv,
        rows_added=tuple(added),
    )


def _checked_intent(store: Store, images: Images, plan: NewVM) -> tuple[Path | None, Intent]:
    """The base (resolved now, under the lock: a base deleted meanwhile is refused here) and the
    intent to record; every refusal of every step first."""
    intent = Intent(plan.operation)
    base = None
    if plan.print_xml is None:
        store.check_save(plan.document, plan.path, plan.overwrite, based_on=plan.based_on, through_link=plan.through_link)
        intent.files.append(store.save_intent(plan.document, plan.path, through_link=plan.through_link))
    if plan.routeflow_csv is not None:
        undo = store.routeflow_csv_intent(plan.routeflow_csv, list(plan.rows))
        if undo is not None:
            intent.files.append(undo)
    if plan.base is not None:
        if plan.overlay is None:
            raise ValueError("an overlay of a base needs the overlay's path")
        base = images.base(str(plan.base)) if not isinstance(plan.base, Path) else Path(os.path.abspath(plan.base))
        image_info(base)  # a base deleted or broken meanwhile: refused now, nothing written
        intent.overlay = _overlay_intent(images, Path(os.path.abspath(plan.overlay)), plan.replace_overlay)
    return base, intent


def _overlay_intent(images: Images, target: Path, replace: bool) -> OverlayUndo:
    images.check_overlay_target(target, replace)
    undo = OverlayUndo(target=target, staged=target.with_name(f".{target.name}{STAGED_SUFFIX}"))
    if os.path.lexists(target):
        if os.path.islink(target):
            raise ImageError(f"{target} is a symbolic link; rfconsole does not replace an image through a link it did not make", hint="remove the link")
        problem = images.backup_problem()
        if problem:
            raise ImageError(f"{problem}; nothing was changed", hint="remove it, then try again")
        info = image_info(target)
        undo.kept = target.with_name(f".{target.name}{KEPT_SUFFIX}")
        undo.backup = images.backup_path(target)
        if info.backing is not None and info.backing_text is not None and not os.path.isabs(info.backing_text):
            undo.kept_backing, undo.kept_backing_format = info.backing, info.backing_format
    for leftover in (undo.staged, undo.kept):
        if leftover is not None and os.path.lexists(leftover):
            raise StoreError(f"{leftover} is in the way (rfconsole makes it only while it holds XML/'s lock)", hint="remove it, then try again")
    return undo


def _put_overlay_in_place(images: Images, base: Path, undo: OverlayUndo) -> None:
    images.create_overlay(base, undo.staged)
    _step(2)
    if undo.kept is not None:
        os.link(undo.target, undo.kept)  # the old file's second name, in the same folder
    _step(3)
    os.replace(undo.staged, undo.target)
    _step(4)


def _step(number: int) -> None:
    """The crash tests' hook (KILL_AT_STEP_VARIABLE): nothing unless that variable names ``number``."""
    if os.environ.get(KILL_AT_STEP_VARIABLE) == str(number):
        os.kill(os.getpid(), signal.SIGKILL)
