"""libvirt domain snapshots as XML: the ``<domainsnapshot>`` rfconsole asks for, what libvirt
says of one, and whether a domain's storage allows an internal snapshot at all.

rfconsole takes **internal** qcow2 snapshots (docs/images.md says why: libvirt 9.0, Debian 12's,
cannot revert to an external one). They need every writable disk to be a qcow2 file; a running
VM's memory state is stored in them too, so a running VM with no disk has nowhere to keep it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.errors import InvalidSpec, Problem
from rfconsole.model.kinds import Hypervisor
from rfconsole.model.safexml import parse_untrusted
from rfconsole.model.text import text_problem

SNAPSHOT_NAME_MAX = 64
SNAPSHOT_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


def check_snapshot_name(name: str) -> str:
    """``name`` if libvirt and a shell both take it well, else InvalidSpec saying what is allowed."""
    if not name or len(name) > SNAPSHOT_NAME_MAX or not SNAPSHOT_NAME_RE.fullmatch(name):
        raise InvalidSpec([Problem(
            "snapshot", name,
            f"a snapshot name has letters, digits, '_', '.', ':' and '-', starts with a letter or digit, at most {SNAPSHOT_NAME_MAX} characters",
        )])
    return name


def default_snapshot_name(now: datetime | None = None) -> str:
    """A name from the UTC time, e.g. snap-20261201T024501."""
    moment = now or datetime.now(UTC)
    return moment.strftime("snap-%Y%m%dT%H%M%S")


def snapshot_xml(name: str, description: str | None = None) -> str:
    """The ``<domainsnapshot>`` asking libvirt for a snapshot called ``name`` (libvirt picks
    internal snapshots of qcow2 disks, with the memory state of a running domain)."""
    root = etree.Element("domainsnapshot")
    etree.SubElement(root, "name").text = check_snapshot_name(name)
    if description:
        # one or more lines of text: line breaks and tabs are a description's own
        problem = text_problem(description.replace("\n", " ").replace("\t", " "), "the description")
        if problem:
            raise InvalidSpec([Problem("description", description, problem)])
        etree.SubElement(root, "description").text = description
    return etree.tostring(root, encoding="unicode")


@dataclass(frozen=True)
class SnapshotFacts:
    """What libvirt's ``<domainsnapshot>`` says of one snapshot."""

    name: str
    state: str  # the domain's state when it was taken: running, shutoff, paused …
    created: datetime | None
    memory: bool  # holds the memory state: reverting resumes the guest where it was
    description: str | None
    parent: str | None


def parse_snapshot(text: str, source: str = "<snapshot>") -> SnapshotFacts:
    root = parse_untrusted(text, source).getroot()
    created_text = (root.findtext("creationTime") or "").strip()
    created = datetime.fromtimestamp(int(created_text), UTC) if created_text.isdigit() else None
    memory = root.find("memory")
    parent = root.find("parent")
    return SnapshotFacts(
        name=(root.findtext("name") or "").strip(),
        state=(root.findtext("state") or "").strip(),
        created=created,
        memory=memory is not None and memory.get("snapshot") not in (None, "no"),
        description=root.findtext("description"),
        parent=parent.findtext("name") if parent is not None else None,
    )


@dataclass(frozen=True)
class DiskStorage:
    """One ``<disk>`` as far as snapshots and resets care (its format and whether the guest writes it);
    not spec.Disk, the modelled settings of a disk."""

    target: str
    kind: str  # file, block, network, volume …
    device: str  # disk, cdrom, floppy, lun
    path: str | None
    format: str | None  # the driver type (qcow2, raw …); None when unsaid (libvirt: raw)
    readonly: bool

    @property
    def writable(self) -> bool:
        return not self.readonly and self.device in ("disk", "lun")


def disks(document: DomainDocument) -> list[DiskStorage]:
    devices = document.root.find("devices")
    found = []
    for element in devices.findall("disk") if devices is not None else []:
        source = element.find("source")
        driver = element.find("driver")
        target = element.find("target")
        path = None
        if source is not None:
            path = source.get("file") or source.get("dev") or source.get("name") or source.get("volume")
        found.append(DiskStorage(
            target=target.get("dev", "?") if target is not None else "?",
            kind=element.get("type") or "file",
            device=element.get("device") or "disk",
            path=path,
            format=driver.get("type") if driver is not None else None,
            readonly=element.find("readonly") is not None or element.find("shareable") is not None,
        ))
    return found


def files_the_guest_writes(document: DomainDocument) -> list[str]:
    """The host files a running domain writes: the top file of each ``<disk type='file'>`` of
    device disk or lun without ``<readonly/>`` (a shareable one included: its guests write it),
    and each ``<filesystem type='file'>`` (an LXC root on a loop-mounted image) without
    ``<readonly/>``. Files below them in a backing chain are only read."""
    devices = document.root.find("devices")
    found = []
    for element in devices if devices is not None else []:
        if element.tag not in ("disk", "filesystem") or (element.get("type") or "file") != "file" or element.find("readonly") is not None:
            continue
        if element.tag == "disk" and (element.get("device") or "disk") not in ("disk", "lun"):
            continue
        source = element.find("source")
        path = source.get("file") if source is not None else None
        if path:
            found.append(path)
    return found


def snapshot_refusal(document: DomainDocument, running: bool) -> str | None:
    """Why this domain cannot have an internal snapshot (None when it can), in words that say
    what to change. ``running``: the domain is active, so its memory state must be stored too."""
    hypervisor = document.hypervisor
    if hypervisor is Hypervisor.TEST:
        return None  # libvirt's test driver keeps snapshots in memory, whatever the disks
    if hypervisor is Hypervisor.LXC:
        return "it is an LXC container: libvirt's LXC driver has no snapshots (its root is a folder, not a disk image)"
    writable = [disk for disk in disks(document) if disk.writable]
    if not writable:
        if running:
            return ("it has no disk: a running VM's snapshot keeps its memory in a qcow2 disk "
                    "(give it one, e.g. `rfconsole xml new … --base NAME`)")
        return "it has no disk: there is nothing to snapshot (it boots a kernel and keeps no state)"
    for disk in writable:
        if disk.kind != "file":
            return f"disk {disk.target} ({disk.path}) is a {disk.kind} disk: internal snapshots need qcow2 files"
        if (disk.format or "raw") != "qcow2":
            return (f"disk {disk.target} ({disk.path}) is {disk.format or 'raw'}: internal snapshots need qcow2 disks "
                    "(give the VM an overlay of a base with `rfconsole xml new … --base NAME`, or convert the image with qemu-img convert -O qcow2)")
    return None
