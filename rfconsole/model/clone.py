"""A new VM from an existing one: new name, id, MACs, host-side NIC names, image; the rest of
the source's XML kept as it is (what rfconsole does not model included, ``<uuid>`` dropped).

A clone named by rftest2's naming (model/rftest2.py, ``rftest2_naming``) gets that naming's
id, image and MACs: ``rfvmE`` is the fifth router (id 5, image ``h5``, eth0
``02:e0:e0:e0:e0:e0``, data NICs ``02:e1:…``, ``02:e2:…``, host-side names ``rfvmE.1`` …,
switch 9), ``rfvmF`` the sixth, exactly as ``xml new --preset rfvmE`` gives them. Any other
name gets random locally administered unicast MACs (``02:…``) that no VM of XML/ or of any host
uses.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

from rfconsole.errors import RfconsoleError
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.errors import InvalidSpec, Problem
from rfconsole.model.rftest2 import RFTEST2_PRESETS, RFTEST2_VMS, rftest2_naming
from rfconsole.model.spec import (
    DEVICE_NAME_MAX,
    NAME_MAX,
    NAME_RE,
    NAME_RULE,
    DomainSpec,
    Interface,
)

LOCALLY_ADMINISTERED = 0x02  # first byte: unicast, locally administered (IEEE 802)
# Host-side names libvirt makes up for a NIC that names none (its reserved prefixes; testnet: the test driver)
LIBVIRT_NAMED = re.compile(r"(vnet|vif|macvtap|macvlan|testnet)[0-9]+")


class CloneError(RfconsoleError):
    """The clone cannot be made as asked; nothing was written."""


def check_clone_name(name: str) -> str:
    """The new VM's name, by rfconsole's rule for names it makes (checked before anything is read)."""
    if not name or len(name) > NAME_MAX or not NAME_RE.fullmatch(name):
        raise InvalidSpec([Problem("name", name, f"this name is not allowed: {NAME_RULE}")])
    return name


def random_mac(taken: set[str], draw: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A locally administered unicast MAC not in ``taken``."""
    for _ in range(1000):
        mac = ":".join(f"{byte:02x}" for byte in (LOCALLY_ADMINISTERED, *draw(5)))
        if mac not in taken:
            return mac
    raise CloneError("could not find a free MAC address in 1000 tries")


def macs_in(document: DomainDocument) -> set[str]:
    """Every MAC address the domain's interfaces have, lower case."""
    devices = document.root.find("devices")
    found = set()
    for interface in devices.findall("interface") if devices is not None else []:
        mac = interface.find("mac")
        if mac is not None and mac.get("address"):
            found.add(mac.get("address").strip().lower())
    return found


def _source_data_port(source_name: str, interface: Interface) -> int | None:
    """k when the NIC's host-side name is <source>.k (rftest2's data NICs)."""
    if interface.target_dev and interface.target_dev.startswith(f"{source_name}."):
        suffix = interface.target_dev[len(source_name) + 1 :]
        if suffix.isdigit():
            return int(suffix)
    return None


def clone_interfaces(source: DomainSpec, new_name: str, taken_macs: Iterable[str]) -> tuple[Interface, ...]:
    """The source's NICs with new MACs and host-side names: rftest2's for rfvmE/rfvmF (the eth0
    of an rftest2 VM and its data NICs <source>.k), random free ones otherwise."""
    taken = {mac.lower() for mac in taken_macs}
    naming = rftest2_naming(new_name)
    source_naming = rftest2_naming(source.name)
    source_eth0 = source_naming.eth0_mac if source_naming is not None else None
    result = []
    for index, interface in enumerate(source.interfaces, start=1):
        port = _source_data_port(source.name, interface)
        mac = None
        if naming is not None:
            if port is not None:
                mac = naming.data_mac(port)
            elif interface.mac is not None and interface.mac == source_eth0:
                mac = naming.eth0_mac
        if mac is not None and mac in taken:
            raise CloneError(
                f"{new_name}'s MAC {mac} (rftest2's convention) is already used by another VM",
                "find it with `rfconsole status` and `virsh domiflist`, or clone under another name",
            )
        if mac is None:
            mac = random_mac(taken)
        taken.add(mac)
        target = interface.target_dev
        if target is not None and port is None and LIBVIRT_NAMED.fullmatch(target):
            target = None  # a name libvirt gave the source's NIC (vnet0, testnet0): libvirt names the clone's
        if target is not None:
            target = f"{new_name}.{port}" if port is not None else f"{new_name}-{index}"  # never a data NIC's NEW.k
            if len(target) > DEVICE_NAME_MAX:
                raise CloneError(
                    f"the host-side NIC name {target} would be longer than {DEVICE_NAME_MAX} characters (the kernel's limit)",
                    f"choose a name of at most {DEVICE_NAME_MAX - 2} characters",
                )
        result.append(interface.with_changes(mac=mac, target_dev=target))
    names = [interface.target_dev for interface in result if interface.target_dev]
    doubled = sorted({name for name in names if names.count(name) > 1})
    if doubled:
        raise CloneError(
            f"two of {new_name}'s NICs would have the host-side name {doubled[0]}: {source.name} has two data NICs numbered {doubled[0].rsplit('.', 1)[-1]}",
            f"give each of {source.name}'s data NICs its own number ({source.name}.1, {source.name}.2 …) first",
        )
    return tuple(result)


def clone_document(source: DomainDocument, new_spec: DomainSpec) -> DomainDocument:
    """The source's document carrying ``new_spec``: everything else kept, ``<uuid>`` dropped
    (libvirt makes a new one; two domains cannot share it)."""
    document = source.copy()
    uuid = document.root.find("uuid")
    if uuid is not None:
        previous = uuid.getprevious()
        if previous is not None:
            previous.tail = uuid.tail if uuid.getnext() is None else previous.tail
        document.root.remove(uuid)
    document.apply(new_spec)
    document.mark_owned()
    document.source = f"<clone {new_spec.name}>"
    return document


def clone_image_name(new_name: str, suffix: str = ".qcow2") -> str:
    """h5.qcow2 for rfvmE (rftest2's image h5.img as an overlay), else <name>.qcow2."""
    naming = rftest2_naming(new_name)
    return f"{Path(naming.image_name).stem if naming else new_name}{suffix}"


def clone_spec(source: DomainSpec, new_name: str, new_id: int, taken_macs: Iterable[str], image: Path | None) -> DomainSpec:
    return source.with_changes(
        name=new_name,
        id=new_id,
        interfaces=clone_interfaces(source, new_name, taken_macs),
        image=image,
        image_kind=None if image is None else source.image_kind,
    )


def suggest_clone_name(source: str, taken: Iterable[str]) -> str:
    """A free name for a clone of ``source``: rftest2's next router (rfvmE, rfvmF) for one of
    rftest2's VMs, else <source>-2, -3 …"""
    used = set(taken)
    if rftest2_naming(source) is not None:
        for name in RFTEST2_PRESETS:
            if name not in RFTEST2_VMS and name not in used:
                return name
    stem = source[: NAME_MAX - 4]
    number = 2
    while f"{stem}-{number}" in used:
        number += 1
    return f"{stem}-{number}"
