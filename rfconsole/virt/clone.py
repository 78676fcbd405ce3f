"""``Fleet.clone(source, new)`` (which passes its store, hosts and ``locate``): a new VM in XML/ from an existing one (its file in XML/, else its
definition on the host that has it; rfconsole/model/clone.py
makes its settings), with its own overlay of the source's base, and MACs that no VM of XML/ and
no domain of any reachable host has. Nothing is defined in libvirt: ``up NEW`` does that.

Its files (overlay, XML, with ``routeflow_config`` the clone's rows in RouteFlow's CSV) are
written all or none by rfconsole/transaction.py, under XML/'s lock from the choice of the id on:
every refusal comes before anything is written, a failure or a kill half-way is rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rfconsole.images import ImageError, Images, image_info
from rfconsole.model.clone import (
    CloneError,
    check_clone_name,
    clone_document,
    clone_image_name,
    clone_spec,
    macs_in,
)
from rfconsole.model.rftest2 import new_vm_rows, rftest2_naming, rows_added_words
from rfconsole.store import StoreError
from rfconsole.transaction import NewVM, write_new_vm
from rfconsole.virt.errors import DomainNotFound, VirtError

if TYPE_CHECKING:
    from rfconsole.model.domainxml import DomainDocument
    from rfconsole.store import Store
    from rfconsole.virt.host import Host

    Locate = Callable[[str], tuple[Host, str | None]]  # Fleet.locate: the host of a VM, and its name when defined there


def macs_in_use(store: Store, hosts: Iterable[Host]) -> set[str]:
    """Every MAC of the VMs of XML/ and of the domains on every reachable host."""
    taken: set[str] = set()
    for entry in store.entries():
        if entry.document is not None:
            taken |= macs_in(entry.document)
    for host in hosts:
        try:
            for status in host.statuses():
                try:
                    taken |= macs_in(host.document(status.name))
                except DomainNotFound:
                    continue  # undefined while we were reading
        except VirtError:
            continue  # an unreachable host: its MACs cannot be read (the faces report the host)
    return taken


def clone(
    store: Store, hosts: list[Host], locate: Locate, source: str, new: str, force: bool = False, routeflow_config: Path | None = None, datapath_id: int | None = None, new_id: int | None = None
) -> str:
    """Under XML/'s lock from the id's choice to the last file written: two clones at once get
    different ids (or the second is refused, naming the clash), and an image delete of the base
    waits or wins."""
    with store.locked():
        return _clone(store, hosts, locate, source, new, force, routeflow_config, datapath_id, new_id)


def _clone(
    store: Store, hosts: list[Host], locate: Locate, source: str, new: str, force: bool,
    routeflow_config: Path | None, datapath_id: int | None, new_id: int | None,
) -> str:
    check_clone_name(new)
    source_document = _source_document(store, locate, source)
    source_spec = source_document.spec()
    if source_spec.hypervisor.is_container:
        raise CloneError(
            f"cannot clone {source_spec.name}: it is an LXC container, and its root folder cannot be shared or overlaid",
            f"copy its root folder and write the new container with `rfconsole xml new --hypervisor lxc --name {new} --image FOLDER`",
        )
    if store.find(new) is not None:
        raise CloneError(f"there is already a VM called {new} in {store.xml_dir}", "choose another name")
    for host in hosts:
        try:
            if host.exists(new):
                raise CloneError(f"host {host.name} already has a domain called {new}", "choose another name, or undefine that domain first")
        except VirtError:
            continue
    naming = rftest2_naming(new)
    if new_id is None:
        new_id = store.suggest_id(naming.default_id if naming is not None else None)  # xml new --preset's rule

    images = Images(store.workdir)
    base = overlay = None
    if source_spec.image is not None:
        base = _base_of(source_spec.name, source_spec.image)
        overlay = images.overlay_path(clone_image_name(new))
    spec = clone_spec(source_spec, new, new_id, macs_in_use(store, hosts), overlay)
    rows = new_vm_rows(spec, datapath_id, asked=True) if routeflow_config is not None else []
    written = write_new_vm(
        store,
        images,
        NewVM(clone_document(source_document, spec), base=base, overlay=overlay, replace_overlay=force, routeflow_csv=routeflow_config, rows=tuple(rows)),
    )
    macs = ", ".join(interface.mac for interface in spec.interfaces if interface.mac) or "no NICs"
    disk = f", overlay {overlay} of {base.name}" if overlay is not None and base is not None else ""
    message = f"{new} (id {new_id}) cloned from {source_spec.name}: {written.xml}{disk}, MACs {macs}"
    if routeflow_config is not None:
        message += f"; {rows_added_words(routeflow_config, new, rows, list(written.rows_added))}"
    return message


def _source_document(store: Store, locate: Locate, source: str) -> DomainDocument:
    """The source's XML from XML/, else its persistent definition on the host that has it."""
    try:
        return store.load(source)
    except StoreError:
        host, known = locate(source)
        if known is None:
            raise
        return host.document(source, inactive=True)


def _base_of(source: str, image: Path) -> Path:
    """The base the clone's overlay goes over: the source's own base (the clone starts from it
    as clean as the source did, not from what the source wrote since)."""
    try:
        info = image_info(image)
    except ImageError as error:
        raise CloneError(f"cannot clone {source}: {error.message}") from None
    if info.backing is None:
        raise CloneError(
            f"cannot clone {source}: its image {image} is not an overlay of a base, and rfconsole never shares one VM's disk with another",
            f"make it a base first (rfconsole image base {image} --name NAME), give {source} an overlay of it, then clone",
        )
    return info.backing
