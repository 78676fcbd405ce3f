"""DomainDocument: a view over one libvirt domain XML document (virt-manager's virtinst idea).

``spec()`` reads the modelled fields out of the document; ``apply(spec)`` writes back only the
fields that differ, in place, so everything rfconsole does not model (elements, attributes,
order, comments, whitespace) stays exactly as it was. ``from_spec`` is ``apply`` onto a minimal
skeleton. New elements go where libvirt itself would put them.

rfconsole's own id and ownership mark live in ``<metadata>``, in the namespace
``https://routeflow.github.io/rfconsole/xmlns/1``::

    <metadata><rfconsole:vm xmlns:rfconsole="https://routeflow.github.io/rfconsole/xmlns/1" id="1"/></metadata>

(libvirt's ``<domain id=…>`` is the transient id of a running domain; it is read as the
rfconsole id only when the mark is absent, as in the seed's files.)
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from lxml import etree

from rfconsole.model import fields
from rfconsole.model.errors import InvalidSpec, Problem, XMLInputError
from rfconsole.model.fields import SOURCE_ATTRIBUTE, Binding
from rfconsole.model.kinds import Hypervisor, ImageKind, OSType
from rfconsole.model.rules import lenient_settings
from rfconsole.model.safexml import parse_untrusted

if TYPE_CHECKING:  # the pydantic models are imported where a spec is built or applied, not to read a document
    from rfconsole.model.spec import Disk, DomainSpec, Interface

RFCONSOLE_NS = "https://routeflow.github.io/rfconsole/xmlns/1"
MARK_TAG = f"{{{RFCONSOLE_NS}}}vm"
INDENT = "  "

# The order libvirt itself writes children in (virDomainDefFormat and friends). The schema
# mostly uses <interleave>, so this is for readable files that look like virsh dumpxml.
DOMAIN_ORDER = (
    "name uuid genid title description metadata maxMemory memory currentMemory blkiotune memtune "
    "memoryBacking vcpu vcpus iothreads iothreadids defaultiothread cputune numatune resource sysinfo "
    "bootloader bootloader_args os idmap features cpu clock on_poweroff on_reboot on_crash "
    "on_lockfailure pm perf devices seclabel keywrap launchSecurity"
).split()
OS_ORDER = (
    "type firmware loader nvram init initarg initenv initdir inituser initgroup kernel initrd cmdline "
    "shim dtb root acpi boot bootmenu smbios bios"
).split()
DEVICES_ORDER = (
    "emulator disk controller lease filesystem interface smartcard serial parallel console channel "
    "input tpm graphics sound audio video hostdev redirdev redirfilter hub watchdog memballoon rng "
    "panic shmem memory iommu vsock crypto"
).split()
DISK_ORDER = "driver source backingStore target boot readonly".split()
FILESYSTEM_ORDER = "driver binary source target readonly".split()
INTERFACE_ORDER = "mac source virtualport ip route script target guest model driver".split()
# What libvirt's schema allows inside an LXC <os> (its "osexe"); the init* ones only there.
CONTAINER_OS_CHILDREN = ("type", "init", "initarg", "initenv", "initdir", "inituser", "initgroup")
CONTAINER_ONLY_OS_CHILDREN = ("initarg", "initenv", "initdir", "inituser", "initgroup")

# libvirt's scaled units (virScaleInteger): a bare letter or xiB is a power of 1024, xB of 1000.
_UNIT_POWERS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}
MIB = 1024 * 1024


def unit_bytes(unit: str | None) -> int | None:
    """Bytes in one libvirt memory ``unit`` (default KiB), or None if libvirt has no such unit."""
    if unit is None or unit == "":
        return 1024
    text = unit.strip().lower()
    if text in ("b", "byte", "bytes"):
        return 1
    match = re.fullmatch(r"([kmgtpe])(i?b)?", text)
    if not match:
        return None
    power = _UNIT_POWERS[match.group(1)]
    return (1000 if match.group(2) == "b" else 1024) ** power


def image_driver_type(path: Path) -> str:
    """The disk format by file name: qcow2 for .qcow2, raw otherwise."""
    return "qcow2" if path.suffix.lower() == ".qcow2" else "raw"


class DomainDocument:
    """One libvirt domain XML document and rfconsole's view of it."""

    def __init__(self, tree: etree._ElementTree, source: str = "<new>", declaration: bool = False) -> None:
        self.tree = tree
        self.root = tree.getroot()
        self.source = source
        self.declaration = declaration  # write <?xml …?> because the input had one
        self.dropped: list[str] = []  # what apply() had to remove when switching VM <-> container
        if not isinstance(self.root.tag, str) or self.root.tag != "domain":
            found = self.root.tag if isinstance(self.root.tag, str) else "?"
            raise XMLInputError(
                f"{source}: not a libvirt domain XML: the top element is <{found}>, not <domain>",
            )

    # ----------------------------------------------------------------- construction
    @classmethod
    def parse(cls, data: bytes | str, source: str = "<input>") -> DomainDocument:
        head = data[:64].lstrip() if isinstance(data, str) else data[:256].decode("utf-8", "ignore").lstrip("\ufeff \t\r\n")
        declaration = head.startswith("<?xml ") or (not isinstance(data, str) and data[:2] in (b"\xff\xfe", b"\xfe\xff"))
        return cls(parse_untrusted(data, source), source, declaration=declaration)

    @classmethod
    def read(cls, path: str | Path) -> DomainDocument:
        from rfconsole.model.safexml import read_untrusted_file

        return cls.parse(read_untrusted_file(path), str(path))

    @classmethod
    def from_spec(cls, spec: DomainSpec) -> DomainDocument:
        root = etree.Element("domain", type=spec.hypervisor.value)
        etree.SubElement(root, "name").text = spec.name
        etree.SubElement(root, "vcpu").text = str(spec.vcpu)
        os_element = etree.SubElement(root, "os")
        etree.SubElement(os_element, "type").text = spec.os_type.value if spec.os_type else ""
        if not spec.hypervisor.is_container:
            # Without ACPI a guest never hears a graceful shutdown, and `down` always ends in destroy.
            etree.SubElement(etree.SubElement(root, "features"), "acpi")
        etree.SubElement(root, "on_poweroff").text = "destroy"
        etree.SubElement(root, "on_reboot").text = "restart"
        etree.SubElement(root, "on_crash").text = "restart"
        devices = etree.SubElement(root, "devices")
        etree.SubElement(devices, "console", type="pty")
        document = cls(etree.ElementTree(root), f"<new {spec.name}>")
        document.mark_owned()
        document.apply(spec)
        etree.indent(root, space=INDENT)
        root.tail = None
        return document

    def copy(self) -> DomainDocument:
        return DomainDocument(copy.deepcopy(self.tree), self.source, self.declaration)

    # ----------------------------------------------------------------- quick facts
    @property
    def name(self) -> str | None:
        element = self.root.find("name")
        return element.text.strip() if element is not None and element.text else None

    @property
    def hypervisor(self) -> Hypervisor | None:
        value = (self.root.get("type") or "").strip().lower()
        try:
            return Hypervisor(value)
        except ValueError:
            return None

    @property
    def owned(self) -> bool:
        return self._mark() is not None

    @property
    def rfconsole_id(self) -> int | None:
        value = self._read_id()
        return value if isinstance(value, int) else None

    def mark_owned(self) -> etree._Element:
        """Put rfconsole's ownership mark into <metadata> (keeping the id it already has); the mark."""
        existing = self._mark()
        if existing is not None:
            return existing
        current = self._read_id()
        metadata = self.root.find("metadata")
        if metadata is None:
            metadata = _insert(self.root, etree.Element("metadata"), DOMAIN_ORDER)
        mark = etree.Element(MARK_TAG, nsmap={"rfconsole": RFCONSOLE_NS})
        if isinstance(current, int):
            mark.set("id", str(current))
        _insert(metadata, mark, ())
        return mark

    def _mark(self) -> etree._Element | None:
        metadata = self.root.find("metadata")
        return None if metadata is None else metadata.find(MARK_TAG)

    # ----------------------------------------------------------------- output
    def to_xml(self) -> str:
        """The document as text, top-level comments and processing instructions on lines of their own."""
        parts = ['<?xml version="1.0" encoding="UTF-8"?>'] if self.declaration else []
        before: list[etree._Element] = []
        node = self.root.getprevious()
        while node is not None:
            before.insert(0, node)
            node = node.getprevious()
        parts.extend(etree.tostring(node, encoding="unicode", with_tail=False) for node in before)
        parts.append(etree.tostring(self.root, encoding="unicode", with_tail=False))
        node = self.root.getnext()
        while node is not None:
            parts.append(etree.tostring(node, encoding="unicode", with_tail=False))
            node = node.getnext()
        return "\n".join(parts) + "\n"

    def to_bytes(self) -> bytes:
        return self.to_xml().encode("utf-8")

    def canonical(self) -> bytes:
        """Canonical XML (C14N 1.0, comments kept): equal bytes mean equal documents."""
        return etree.tostring(self.tree, method="c14n", with_comments=True)

    # ----------------------------------------------------------------- reading
    def values(self) -> dict[str, Any]:
        """The modelled fields as read (not validated): what ``spec()`` builds a DomainSpec from.
        Every field comes from its row of the binding table (model/fields.py)."""
        values: dict[str, Any] = {}
        groups: dict[str, dict[str, Any]] = {}  # kernel_boot's fields …
        for binding in fields.DOMAIN_FIELDS:
            if binding.converter == "rfconsole-id":
                value = self._read_id()
            elif binding.converter == "memory-mib":
                value = self._read_memory_mib()
            elif binding.converter == "root-storage":
                continue
            else:
                value = read_binding(self.root, binding)
            group, nested, field = binding.key.rpartition(".")
            if nested:
                groups.setdefault(group, {})[field] = value
            else:
                values[binding.key] = value
        if values["vcpu"] is None and self.root.find("vcpu") is None:
            values["vcpu"] = 1  # libvirt's default
        for group, read in groups.items():  # a group is there when its first field's element is (<os><kernel>)
            first = fields.group_rows(fields.DOMAIN_ROWS, group)[0]
            values[group] = read if self.root.find(_split(first.path)[0]) is not None else None
        image, kind, root_element = self._root_storage(self._is_container(values["hypervisor"]))
        values["image"] = image
        values["image_kind"] = kind
        values["interfaces"] = tuple(read_fields(element, fields.INTERFACE_FIELDS) for element in self._interface_elements())
        values["disks"] = tuple(read_fields(element, fields.DISK_FIELDS) for element in self._disk_elements(root_element))
        return values

    @staticmethod
    def _is_container(hypervisor_text: str | None) -> bool:
        try:
            return Hypervisor((hypervisor_text or "").strip().lower()).is_container
        except ValueError:
            return False

    def spec(self) -> DomainSpec:
        """The document as a DomainSpec, under libvirt's rules only (any domain libvirt accepts is
        read; ``house_rule_problems`` says which of rfconsole's own rules it breaks). InvalidSpec
        names each field libvirt itself would refuse."""
        from rfconsole.model.spec import DomainSpec

        return self._read(DomainSpec.read)

    def settings(self) -> dict[str, Any]:
        """What ``spec()`` reads, as ``spec().model_dump()`` gives it, read without pydantic
        (model/rules.py): for what only shows or checks a document (`xml show`, `xml validate`)."""
        return self._read(lenient_settings)

    def _read(self, reader: Callable[[dict[str, Any]], Any]) -> Any:
        values = self.values()
        problems = []
        if values["hypervisor"] is None:
            problems.append(Problem("hypervisor", None, "<domain> has no type attribute: say kvm, qemu, lxc or test"))
        if values["name"] is None:
            problems.append(Problem("name", None, "the domain has no <name>"))
        if isinstance(values["id"], str):
            values["id"] = None  # rfconsole's own mark, unreadable: a note (notes()), not a refusal
        try:
            read = reader({key: value for key, value in values.items() if value is not None or key not in ("hypervisor", "name")})
        except InvalidSpec as error:
            known = {problem.field for problem in problems}
            problems.extend(problem for problem in error.problems if problem.field not in known)
        if problems:
            raise InvalidSpec(problems, source=self.source)
        return read

    def notes(self) -> list[str]:
        """What reading this document normalised: lenient spellings of the seed and friends."""
        notes = []
        raw_type = self.root.get("type")
        if raw_type is not None and raw_type != raw_type.strip().lower() and self.hypervisor is not None:
            notes.append(f"domain type {raw_type!r} read as {self.hypervisor.value!r} (libvirt wants lower case)")
        if self._mark() is None and self.rfconsole_id is not None:
            notes.append(
                f"rfconsole id {self.rfconsole_id} read from <domain id=…> (libvirt's transient runtime id); "
                "rfconsole keeps its id in <metadata>"
            )
        raw_id = self._read_id()
        if isinstance(raw_id, str):
            notes.append(f"rfconsole's id {raw_id!r} is not a whole number from 1 up: read as no id")
        memory = self.root.find("memory")
        if memory is not None:
            exact = self._read_memory_bytes()
            mib = self._read_memory_mib()
            if exact is not None and isinstance(mib, int) and exact != mib * MIB:
                notes.append(
                    f"memory {(memory.text or '').strip()} {memory.get('unit') or 'KiB'} is {exact / MIB:.2f} MiB, "
                    f"shown as {mib} MiB; the file keeps its exact value until the memory is changed"
                )
        return notes

    def normalise(self) -> list[str]:
        """Write correctly what was read leniently (upper-case domain type, a non-numeric
        <domain id>); returns what was changed, in words."""
        changed = []
        raw_type = self.root.get("type")
        if raw_type is not None and self.hypervisor is not None and raw_type != self.hypervisor.value:
            self.root.set("type", self.hypervisor.value)
            changed.append(f"domain type {raw_type!r} written as {self.hypervisor.value!r}")
        raw_id = self.root.get("id")
        if raw_id is not None and (self._mark() is not None or not raw_id.strip().isdigit()):
            del self.root.attrib["id"]
            changed.append(f"<domain id={raw_id!r}> dropped: libvirt assigns the runtime id; rfconsole's id lives in <metadata>")
        return changed

    def _read_id(self) -> int | str | None:
        mark = self._mark()
        raw = mark.get("id") if mark is not None else self.root.get("id")
        if raw is None:
            return None
        raw = raw.strip()
        return int(raw) if re.fullmatch(r"[0-9]{1,10}", raw) and int(raw) > 0 else raw

    def _read_memory_bytes(self) -> int | None:
        element = self.root.find("memory")
        return _scaled_bytes(element) if element is not None else None

    def _read_memory_mib(self) -> int | str | None:
        element = self.root.find("memory")
        if element is None:
            return None
        exact = self._read_memory_bytes()
        if exact is None:
            unit = element.get("unit")
            if unit_bytes(unit) is None:
                return f"{(element.text or '').strip()} {unit}"
            return (element.text or "").strip()
        return max(1, round(exact / MIB)) if exact else 0

    def _root_storage(self, is_container: bool) -> tuple[str | None, ImageKind | None, etree._Element | None]:
        """(path, kind, element) of the VM's root storage: the first file disk, or LXC's '/' filesystem."""
        devices = self.root.find("devices")
        if devices is None:
            return None, None, None
        if is_container:
            for element in devices.findall("filesystem"):
                target = element.find("target")
                if target is None or (target.get("dir") or "").rstrip("/") != "":
                    continue
                source = element.find("source")
                kind = element.get("type") or "mount"
                if kind == "mount":
                    return (source.get("dir") if source is not None else None), ImageKind.FOLDER, element
                if kind == "file":
                    return (source.get("file") if source is not None else None), ImageKind.FILE, element
                return None, None, element
            return None, None, None
        for element in devices.findall("disk"):
            if (element.get("device") or "disk") != "disk" or (element.get("type") or "file") != "file":
                continue
            source = element.find("source")
            return (source.get("file") if source is not None else None), ImageKind.FILE, element
        return None, None, None

    # ----------------------------------------------------------------- writing
    def apply(self, spec: DomainSpec) -> None:
        """Make the document say what ``spec`` says, changing only the fields that differ: each
        row of the binding table (model/fields.py) is compared and, when it differs, written."""
        old = self.values()
        old_container = self._is_container(old["hypervisor"])
        new_container = spec.hypervisor.is_container
        _, _, old_root_storage = self._root_storage(old_container)
        for binding in fields.DOMAIN_FIELDS:
            if binding.converter == "root-storage":
                continue  # after the rest: it depends on the kernel and the domain type
            wanted = _wanted_text(spec, binding, new_container or spec.os_type is OSType.EXE)
            group, nested, field = binding.key.rpartition(".")
            current = (old[group] or {}).get(field) if nested else old[binding.key]
            if _same(binding, current, wanted):
                continue
            if binding.converter == "rfconsole-id":
                self._write_id(spec.id)
            elif binding.converter == "memory-mib":
                self._write_memory(spec.memory)
            else:
                write_binding(self.root, binding, wanted)
                if binding.key == "vcpu":
                    self._follow_vcpu(_as_int(current), spec.vcpu)
        os_element = _child(self.root, "os", DOMAIN_ORDER)
        type_element = _child(os_element, "type", OS_ORDER)
        self._write_disks(spec.disks, old_root_storage)
        old_storage = (_path_text(old["image"]), old["image_kind"], old_container)
        new_storage = (str(spec.image) if spec.image else None, spec.image_kind, new_container)
        if old_storage != new_storage:
            self._write_image(spec, old_container, os_element, old_root_storage)
        if old_container != new_container:
            self._fit_os_to(new_container, os_element, type_element)
        self._write_interfaces(spec.interfaces)

    def _follow_vcpu(self, old: Any, new: int) -> None:
        """vCPUs online at boot (<vcpu current=…>) follow like <currentMemory>."""
        vcpu = self.root.find("vcpu")
        current = vcpu.get("current") if vcpu is not None else None
        if current is not None and (not current.isdigit() or int(current) > new or old == int(current)):
            vcpu.set("current", str(new))

    def _interface_elements(self) -> list[etree._Element]:
        devices = self.root.find("devices")
        return [] if devices is None else devices.findall("interface")

    def _disk_elements(self, root_storage: etree._Element | None) -> list[etree._Element]:
        devices = self.root.find("devices")
        return [] if devices is None else [element for element in devices.findall("disk") if element is not root_storage]

    def _write_interfaces(self, new: tuple[Interface, ...]) -> None:
        """Each NIC of ``new`` onto its own <interface>, found by MAC; a NIC whose MAC is in no
        element (a changed MAC) takes a left-over element in turn. Left-overs are removed; the
        elements are put in the order of ``new``, each with everything rfconsole does not model."""
        from rfconsole.model.spec import Interface

        elements = self._interface_elements()
        old = [read_fields(element, fields.INTERFACE_FIELDS) for element in elements]
        by_mac: dict[str, list[int]] = {}
        for index, read in enumerate(old):
            if read.get("mac"):
                by_mac.setdefault(read["mac"], []).append(index)
        assigned: list[int | None] = [None] * len(new)
        used: set[int] = set()
        for position, interface in enumerate(new):
            same_mac = by_mac.get(interface.mac, []) if interface.mac else []
            if same_mac:  # several NICs may share a MAC (libvirt allows it): in turn
                assigned[position] = chosen = same_mac.pop(0)
                used.add(chosen)
        wanted_macs = {interface.mac for interface in new if interface.mac}
        free = [index for index in range(len(elements)) if index not in used and old[index].get("mac") not in wanted_macs]
        for position in range(len(new)):
            if assigned[position] is None and free:
                assigned[position] = chosen = free.pop(0)
                used.add(chosen)
        for position, interface in enumerate(new):
            slot = assigned[position]
            wanted = interface.model_dump(mode="json")
            if slot is not None and old[slot] != wanted:  # as read: most often equal, no model needed
                _update_fields(elements[slot], _normal(Interface, old[slot]), wanted, fields.INTERFACE_FIELDS)
        kept = [elements[index] for index in assigned if index is not None]
        _reorder(kept)
        for index, element in enumerate(elements):
            if index not in used:
                _remove(element)
        placed: etree._Element | None = None
        for position, interface in enumerate(new):
            slot = assigned[position]
            if slot is not None:
                placed = elements[slot]
                continue
            element = etree.Element("interface", type=interface.type or "bridge")
            if placed is not None:
                _insert_after(placed, element)
            elif kept:
                _insert_before(kept[0], element)
            else:
                _insert(_child(self.root, "devices", DOMAIN_ORDER), element, DEVICES_ORDER)
            _update_fields(element, dict.fromkeys(interface.model_dump()), interface.model_dump(mode="json"), fields.INTERFACE_FIELDS)
            placed = element

    def _write_disks(self, new: tuple[Disk, ...], root_storage: etree._Element | None) -> None:
        """Each disk of ``new`` onto the <disk> with its target device; others removed, new ones
        added after the last disk."""
        from rfconsole.model.spec import Disk

        elements = self._disk_elements(root_storage)
        old = [read_fields(element, fields.DISK_FIELDS) for element in elements]
        by_target: dict[str | None, list[int]] = {}
        for index, read in enumerate(old):
            by_target.setdefault(read.get("target_dev"), []).append(index)
        used: set[int] = set()
        added = []
        for disk in new:
            same_target = by_target.get(disk.target_dev, [])
            if same_target:  # a target given twice (libvirt refuses it on define, not in its schema): in turn
                index = same_target.pop(0)
                used.add(index)
                wanted = disk.model_dump(mode="json")
                if old[index] != wanted:
                    _update_fields(elements[index], _normal(Disk, old[index]), wanted, fields.DISK_FIELDS)
            else:
                added.append(disk)
        for index, element in enumerate(elements):
            if index not in used:
                _remove(element)
        for disk in added:
            element = etree.Element("disk", type=disk.type, device=disk.device)
            devices = _child(self.root, "devices", DOMAIN_ORDER)
            _insert(devices, element, DEVICES_ORDER)
            _update_fields(element, {"type": disk.type, "device": disk.device}, disk.model_dump(mode="json"), fields.DISK_FIELDS)

    def _fit_os_to(self, container: bool, os_element: etree._Element, type_element: etree._Element) -> None:
        """Switching between a VM and a container: drop the <os> parts only the other kind has
        (libvirt's schema allows them nowhere else), and say so in ``dropped``."""
        for child in list(os_element):
            if not isinstance(child.tag, str) or child is type_element:
                continue
            keep = child.tag in CONTAINER_OS_CHILDREN if container else child.tag not in CONTAINER_ONLY_OS_CHILDREN
            if not keep:
                self.dropped.append(f"<os><{child.tag}> (a {'VM' if container else 'container'} setting)")
                _remove(child)
        if container:
            for element, attribute in ((type_element, "machine"), (os_element, "firmware")):
                if attribute in element.attrib:
                    self.dropped.append(f"<{element.tag} {attribute}='{element.get(attribute)}'> (a VM setting)")
                    del element.attrib[attribute]

    def _write_memory(self, mib: int | None) -> None:
        """Set <memory>; <currentMemory> (the balloon's target, not modelled) follows only when it
        was the whole memory, and is cut down when it would exceed the new memory. None removes
        <memory> (libvirt then sums the NUMA cells)."""
        if mib is None:
            element = self.root.find("memory")
            if element is not None:
                _remove(element)
            return
        old_bytes = self._read_memory_bytes()
        current = self.root.find("currentMemory")
        current_bytes = _scaled_bytes(current) if current is not None else None
        memory = _child(self.root, "memory", DOMAIN_ORDER)
        memory.text = str(mib)
        memory.set("unit", "MiB")
        if current is not None and (current_bytes is None or current_bytes == old_bytes or current_bytes > mib * MIB):
            current.text = str(mib)
            current.set("unit", "MiB")

    def _write_id(self, new_id: int | None) -> None:
        if self.root.get("id") is not None:
            del self.root.attrib["id"]  # the runtime id is libvirt's; rfconsole's lives in the mark
        if new_id is None:
            mark = self._mark()
            if mark is not None and "id" in mark.attrib:
                del mark.attrib["id"]
            return
        self.mark_owned().set("id", str(new_id))

    def _write_image(self, spec: DomainSpec, old_container: bool, os_element: etree._Element, old_element: etree._Element | None) -> None:
        """``old_element``: the root storage before the disks were written (a file disk the spec
        adds is not the image's, though it may now be the first)."""
        new_container = spec.hypervisor.is_container
        devices = _child(self.root, "devices", DOMAIN_ORDER)
        if old_element is not None and (old_container != new_container or spec.image is None):
            _remove(old_element)
            old_element = None
        if spec.image is None:
            if spec.kernel_boot is not None:
                for boot in os_element.findall("boot"):
                    if boot.get("dev") == "hd":
                        _remove(boot)  # nothing left to boot from but the kernel
            return
        if new_container:
            self._write_filesystem(spec, devices, old_element)
            return
        disk = old_element
        if disk is None:
            disk = etree.Element("disk", type="file", device="disk")
            etree.SubElement(disk, "driver", name="qemu", type=image_driver_type(spec.image))
            etree.SubElement(disk, "source", file=str(spec.image))
            etree.SubElement(disk, "target", dev="vda", bus="virtio")
            first_disk = devices.find("disk")
            if first_disk is not None:
                _insert_before(first_disk, disk)  # the first file disk is the image (_root_storage)
            else:
                _insert(devices, disk, DEVICES_ORDER)
            if os_element.find("boot") is None and spec.kernel_boot is None:
                _insert(os_element, etree.Element("boot", dev="hd"), OS_ORDER)
            return
        _child(disk, "source", DISK_ORDER).set("file", str(spec.image))
        driver = disk.find("driver")
        if driver is not None and (driver.get("name") in (None, "qemu")):
            driver.set("type", image_driver_type(spec.image))

    def _write_filesystem(self, spec: DomainSpec, devices: etree._Element, element: etree._Element | None) -> None:
        assert spec.image is not None
        wanted_type = "mount" if spec.image_kind is ImageKind.FOLDER else "file"
        if element is not None and (element.get("type") or "mount") != wanted_type:
            _remove(element)
            element = None
        if element is None:
            element = etree.Element("filesystem", type=wanted_type)
            if wanted_type == "file":
                etree.SubElement(element, "driver", type="loop", format="raw")
            etree.SubElement(element, "source")
            etree.SubElement(element, "target", dir="/")
            _insert(devices, element, DEVICES_ORDER)
        source = _child(element, "source", FILESYSTEM_ORDER)
        attribute = "dir" if wanted_type == "mount" else "file"
        for other in ("dir", "file"):
            if other != attribute and other in source.attrib:
                del source.attrib[other]
        source.set(attribute, str(spec.image))

# --------------------------------------------------------------------- the binding table, generically
ORDERS = {
    "domain": DOMAIN_ORDER,
    "os": OS_ORDER,
    "devices": DEVICES_ORDER,
    "disk": DISK_ORDER,
    "filesystem": FILESYSTEM_ORDER,
    "interface": INTERFACE_ORDER,
}


def _split(path: str) -> tuple[str, str | None]:
    """'os/type/@arch' -> ('os/type', 'arch'); '@type' -> ('', 'type'); 'vcpu' -> ('vcpu', None)."""
    if path.startswith("@"):
        return "", path[1:]
    if "/@" in path:
        element_path, attribute = path.rsplit("/@", 1)
        return element_path, attribute
    return path, None


def read_binding(node: etree._Element, binding: Binding) -> str | None:
    """The text of ``binding``'s node below ``node``, or None when it is absent."""
    element_path, attribute = _split(binding.path)
    element = node.find(element_path) if element_path else node
    if element is None:
        return None
    if attribute is None:
        return _raw_text(element) if binding.converter == "raw" else _text(element)
    value = element.get(attribute)
    if value is not None and binding.converter == "mac":
        return value.strip().lower()
    return value


def write_binding(node: etree._Element, binding: Binding, text: str | None) -> None:
    """Set ``binding``'s node below ``node`` to ``text``, creating elements in libvirt's order;
    None removes it (and an element the removal leaves empty)."""
    element_path, attribute = _split(binding.path)
    if text is None:
        element = node.find(element_path) if element_path else node
        if element is None:
            return
        if attribute is None:
            _remove(element)
            return
        if attribute in element.attrib:
            del element.attrib[attribute]
        if element is not node and not element.attrib and len(element) == 0 and not (element.text or "").strip():
            _remove(element)
        return
    element = node
    for tag in element_path.split("/") if element_path else ():
        element = _child(element, tag, ORDERS.get(element.tag, ()))
    if attribute is None:
        element.text = text
    else:
        element.set(attribute, text)


def read_fields(element: etree._Element, bindings: tuple[Binding, ...]) -> dict[str, Any]:
    """One device's fields (an interface's, a disk's) as read from its own element."""
    fields: dict[str, Any] = {}
    for binding in bindings:
        if binding.converter == "disk-source":
            attribute = SOURCE_ATTRIBUTE.get(element.get("type") or "file")
            source = element.find("source")
            fields[binding.key] = source.get(attribute) if source is not None and attribute else None
        else:
            fields[binding.key] = read_binding(element, binding)
    return fields


def _normal(model: type[Interface] | type[Disk], fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` as the model reads them (defaults filled in), to compare with a spec's."""
    try:
        return model.read(fields).model_dump(mode="json")
    except InvalidSpec:
        return fields


def _update_fields(element: etree._Element, old: dict[str, Any], new: dict[str, Any], bindings: tuple[Binding, ...]) -> None:
    """Write the fields of one device that differ; values before removals, so a <source> that
    changes from bridge= to network= is kept (with its other attributes) rather than re-made."""
    changed = [binding for binding in bindings if old.get(binding.key) != new.get(binding.key)]
    for binding in sorted(changed, key=lambda binding: new.get(binding.key) is None):
        value = new.get(binding.key)
        if binding.converter == "disk-source":
            source_type = new.get("type") or "file"
            for attribute in set(SOURCE_ATTRIBUTE.values()) - {None, SOURCE_ATTRIBUTE.get(source_type)}:
                write_binding(element, Binding("source", f"source/@{attribute}"), None)
            attribute = SOURCE_ATTRIBUTE.get(source_type)
            if attribute:
                write_binding(element, Binding("source", f"source/@{attribute}"), value)
        else:
            write_binding(element, binding, None if value is None else str(value))


def _wanted_text(spec: DomainSpec, binding: Binding, container: bool) -> str | None:
    """The text ``binding``'s node must hold for ``spec``."""
    group, nested, field = binding.key.rpartition(".")
    if nested:
        value = getattr(getattr(spec, group), field) if getattr(spec, group) is not None else None
    else:
        value = getattr(spec, binding.key)
    if binding.key == "init" and not container:
        value = None
    if value is None:
        return None
    if isinstance(value, Enum):
        return value.value
    return str(value)


def _same(binding: Binding, current: Any, wanted: str | None) -> bool:
    if binding.converter == "lower":
        return _norm(current) == wanted
    if binding.converter in ("int", "rfconsole-id", "memory-mib"):
        return _as_int(current) == _as_int(wanted)
    if binding.host_path:
        return _path_text(current) == wanted
    return current == wanted


def _reorder(elements: list[etree._Element]) -> None:
    """Put ``elements`` (siblings) into the slots they hold now, in the order of the list; each
    slot keeps its whitespace."""
    slots = sorted(elements, key=lambda element: element.getparent().index(element))
    if slots == elements:
        return
    parent = slots[0].getparent()
    placeholders = []
    for slot in slots:
        placeholder = etree.Element("placeholder")
        placeholder.tail = slot.tail
        parent.replace(slot, placeholder)
        placeholders.append(placeholder)
    for placeholder, element in zip(placeholders, elements):
        element.tail = placeholder.tail
        parent.replace(placeholder, element)


def _insert_before(anchor: etree._Element, element: etree._Element) -> None:
    whitespace = _whitespace_before(anchor)
    anchor.addprevious(element)
    element.tail = whitespace
    _layout_new(element)


# --------------------------------------------------------------------- tree editing, whitespace kept
def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    text = element.text.strip()
    return text or None


def _scaled_bytes(element: etree._Element) -> int | None:
    """Bytes in a libvirt scaled-integer element such as <memory unit='KiB'>524288</memory>."""
    scale = unit_bytes(element.get("unit"))
    text = (element.text or "").strip()
    if scale is None or not re.fullmatch(r"[0-9]{1,20}", text):
        return None
    return int(text) * scale


def _raw_text(element: etree._Element | None) -> str | None:
    return element.text if element is not None and element.text else None


def _path_text(value: str | None) -> str | None:
    """A path as the spec writes it (pathlib's form: no '//' or '/./'), to compare with the spec."""
    return str(PurePosixPath(value)) if value else value


def _norm(value: str | None) -> str | None:
    return value.strip().lower() if value is not None else None


def _as_int(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def _child(parent: etree._Element, tag: str, order) -> etree._Element:
    """The first child ``tag`` of parent, created in libvirt's order if missing."""
    element = parent.find(tag)
    if element is None:
        element = _insert(parent, etree.Element(tag), order)
    return element


def _whitespace_before(element: etree._Element) -> str | None:
    """The whitespace text right before element (its previous sibling's tail, or parent's text)."""
    previous = element.getprevious()
    parent = element.getparent()
    text = previous.tail if previous is not None else (parent.text if parent is not None else None)
    return text if text is not None and not text.strip() else None


def _base(element: etree._Element) -> str | None:
    """The indentation of element's line, or None when it is not on a line of its own (compact XML)."""
    if element.getparent() is None:
        return "" if element.tag == "domain" else None  # a detached new element is laid out once placed
    text = _whitespace_before(element)
    if text is None or "\n" not in text:
        return None
    return text.rsplit("\n", 1)[1]


def _unit(element: etree._Element) -> str:
    """One step of indentation as the document does it (two spaces, a tab, …), found nearby."""
    node = element
    while node.getparent() is not None:
        parent = node.getparent()
        inner, outer = _base(node), _base(parent)
        if inner is not None and outer is not None and inner.startswith(outer) and len(inner) > len(outer):
            return inner[len(outer) :]
        node = parent
    for child in element.getroottree().getroot():
        inner = _base(child)
        if inner:
            return inner
    return INDENT


def _insert(parent: etree._Element, element: etree._Element, order) -> etree._Element:
    """Insert element among parent's children where libvirt would put it, laid out like its neighbours."""
    rank = order.index(element.tag) if element.tag in order else len(order)
    previous = None
    for child in parent:
        if isinstance(child.tag, str) and child.tag in order and order.index(child.tag) <= rank:
            previous = child
    children = [child for child in parent if isinstance(child.tag, str)]
    if previous is not None:
        _insert_after(previous, element)
    elif children and element.tag in order:
        first = children[0]
        whitespace = _whitespace_before(first)
        first.addprevious(element)  # the whitespace before first now precedes element
        element.tail = whitespace
        _layout_new(element)
    elif len(parent):
        _insert_after(parent[-1], element)
    else:
        base = _base(parent)
        if base is not None:
            unit = _unit(parent)
            parent.text = "\n" + base + unit
            element.tail = "\n" + base
        parent.append(element)
        _layout_new(element)
    return element


def _insert_after(anchor: etree._Element, element: etree._Element) -> None:
    """Put element right after anchor, with the same separator as anchor's siblings."""
    if anchor.getnext() is None:
        # anchor's tail closes the parent: the new last child takes it over
        element.tail = anchor.tail
        separator = _whitespace_before(anchor)
        if separator is None and anchor.tail is not None and not anchor.tail.strip() and _base(anchor.getparent()) is not None:
            separator = anchor.tail + _unit(anchor)
        anchor.tail = separator
    else:
        element.tail = anchor.tail
    anchor.addnext(element)
    _layout_new(element)


def _layout_new(element: etree._Element) -> None:
    """Indent a freshly built element's children to match where it now sits (or keep it compact)."""
    if not len(element):
        return
    base = _base(element)
    if base is None:
        return
    _indent_subtree(element, base, _unit(element))


def _indent_subtree(element: etree._Element, base: str, unit: str) -> None:
    children = list(element)
    if not children:
        return
    inner = "\n" + base + unit
    if element.text is None or not element.text.strip():
        element.text = inner
    for index, child in enumerate(children):
        if child.tail is None or not child.tail.strip():
            child.tail = inner if index < len(children) - 1 else "\n" + base
        _indent_subtree(child, base + unit, unit)


def _remove(element: etree._Element) -> None:
    """Remove element, keeping the whitespace layout of its siblings."""
    parent = element.getparent()
    previous = element.getprevious()
    if parent.index(element) == len(parent) - 1:
        # the removed one's tail closed the parent
        if previous is not None:
            previous.tail = element.tail
        else:
            parent.text = None if element.tail is None or not element.tail.strip() else element.tail
    elif element.tail is not None and element.tail.strip():
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
