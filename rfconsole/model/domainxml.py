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
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree

from rfconsole.model.errors import InvalidSpec, Problem, XMLInputError
from rfconsole.model.safexml import parse_untrusted
from rfconsole.model.spec import DomainSpec, Hypervisor, ImageKind, Interface, KernelBoot

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
MODELLED_INTERFACE_TYPES = ("bridge", "network")
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

    def mark_owned(self) -> None:
        """Put rfconsole's ownership mark into <metadata> (keeping the id it already has)."""
        if self._mark() is not None:
            return
        current = self._read_id()
        metadata = self.root.find("metadata")
        if metadata is None:
            metadata = _insert(self.root, etree.Element("metadata"), DOMAIN_ORDER)
        mark = etree.Element(MARK_TAG, nsmap={"rfconsole": RFCONSOLE_NS})
        if isinstance(current, int):
            mark.set("id", str(current))
        _insert(metadata, mark, ())

    def _mark(self) -> etree._Element | None:
        metadata = self.root.find("metadata")
        return None if metadata is None else metadata.find(MARK_TAG)

    # ----------------------------------------------------------------- output
    def to_xml(self) -> str:
        """The document as text, top-level comments and processing instructions on lines of their own."""
        parts = ['<?xml version="1.0" encoding="UTF-8"?>'] if self.declaration else []
        before = []
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
        """The modelled fields as read (not validated): what ``spec()`` builds a DomainSpec from."""
        root = self.root
        hypervisor_text = root.get("type")
        is_container = (hypervisor_text or "").strip().lower() == "lxc"
        os_element = root.find("os")
        type_element = os_element.find("type") if os_element is not None else None
        values: dict[str, Any] = {
            "hypervisor": hypervisor_text,
            "name": _text(root.find("name")),
            "id": self._read_id(),
            "arch": type_element.get("arch") if type_element is not None else None,
            "os_type": _text(type_element),
            "vcpu": _text(root.find("vcpu")) if root.find("vcpu") is not None else 1,
            "memory": self._read_memory_mib(),
            "interfaces": tuple(_read_interface(element) for element in self._modelled_interfaces()),
            "kernel_boot": None,
            "init": _text(os_element.find("init")) if os_element is not None else None,
        }
        if os_element is not None and os_element.find("kernel") is not None:
            values["kernel_boot"] = {
                "kernel": _text(os_element.find("kernel")),
                "initrd": _text(os_element.find("initrd")),
                "cmdline": _raw_text(os_element.find("cmdline")),
            }
        image, kind, _ = self._root_storage(is_container)
        values["image"] = image
        values["image_kind"] = kind
        return values

    def spec(self) -> DomainSpec:
        """The document as a DomainSpec, or InvalidSpec naming each field that breaks a rule."""
        values = self.values()
        problems = []
        if values["hypervisor"] is None:
            problems.append(Problem("hypervisor", None, "<domain> has no type attribute: say kvm, qemu, lxc or test"))
        if values["name"] is None:
            problems.append(Problem("name", None, "the domain has no <name>"))
        if values["memory"] is None:
            problems.append(Problem("memory", None, "the domain has no <memory>"))
        if isinstance(values["id"], str):
            problems.append(Problem("id", values["id"], "rfconsole's id must be a whole number from 1 up"))
            values["id"] = None
        if problems:
            raise InvalidSpec(problems, source=self.source)
        values["interfaces"] = [dict(interface) for interface in values["interfaces"]]
        try:
            return DomainSpec(**values)
        except InvalidSpec as error:
            raise InvalidSpec(error.problems, source=self.source) from None

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

    def _modelled_interfaces(self) -> list[etree._Element]:
        devices = self.root.find("devices")
        if devices is None:
            return []
        return [element for element in devices.findall("interface") if element.get("type") in MODELLED_INTERFACE_TYPES]

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
        """Make the document say what ``spec`` says, changing only the fields that differ."""
        old = self.values()
        old_container = (old["hypervisor"] or "").strip().lower() == "lxc"
        new_container = spec.hypervisor.is_container
        if _norm(old["hypervisor"]) != spec.hypervisor.value:
            self.root.set("type", spec.hypervisor.value)
        if old["name"] != spec.name:
            _child(self.root, "name", DOMAIN_ORDER).text = spec.name
        if old["id"] != spec.id:
            self._write_id(spec.id)
        os_element = _child(self.root, "os", DOMAIN_ORDER)
        type_element = _child(os_element, "type", OS_ORDER)
        if old["arch"] != (spec.arch.value if spec.arch else None):
            _set_attribute(type_element, "arch", spec.arch.value if spec.arch else None)
        if old["os_type"] != (spec.os_type.value if spec.os_type else None):
            type_element.text = spec.os_type.value if spec.os_type else None
        if _as_int(old["vcpu"]) != spec.vcpu:
            vcpu = _child(self.root, "vcpu", DOMAIN_ORDER)
            vcpu.text = str(spec.vcpu)
            current = vcpu.get("current")  # vCPUs online at boot: follows like <currentMemory>
            if current is not None and (not current.isdigit() or int(current) > spec.vcpu or _as_int(old["vcpu"]) == int(current)):
                vcpu.set("current", str(spec.vcpu))
        if old["memory"] != spec.memory:
            self._write_memory(spec.memory)
        self._write_init(old["init"], spec.init, new_container)
        self._write_kernel_boot(old["kernel_boot"], spec.kernel_boot, os_element)
        old_storage = (_path_text(old["image"]), old["image_kind"], old_container)
        new_storage = (str(spec.image) if spec.image else None, spec.image_kind, new_container)
        if old_storage != new_storage:
            self._write_image(spec, old_container, os_element)
        if old_container != new_container:
            self._fit_os_to(new_container, os_element, type_element)
        self._write_interfaces(old["interfaces"], spec.interfaces)

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

    def _write_memory(self, mib: int) -> None:
        """Set <memory>; <currentMemory> (the balloon's target, not modelled) follows only when it
        was the whole memory, and is cut down when it would exceed the new memory."""
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
        self.mark_owned()
        self._mark().set("id", str(new_id))

    def _write_init(self, old: str | None, new: str | None, container: bool) -> None:
        if old == new:
            return
        os_element = _child(self.root, "os", DOMAIN_ORDER)
        if new is None or not container:
            element = os_element.find("init")
            if element is not None:
                _remove(element)
            return
        _child(os_element, "init", OS_ORDER).text = new

    def _write_kernel_boot(self, old: dict | None, new: KernelBoot | None, os_element: etree._Element) -> None:
        wanted = None
        if new is not None:
            wanted = {
                "kernel": str(new.kernel),
                "initrd": str(new.initrd) if new.initrd else None,
                "cmdline": new.cmdline,
            }
        current = dict(old or {"kernel": None, "initrd": None, "cmdline": None})
        for tag in ("kernel", "initrd"):
            current[tag] = _path_text(current.get(tag))
        wanted_values = wanted or {"kernel": None, "initrd": None, "cmdline": None}
        for tag in ("kernel", "initrd", "cmdline"):
            if current.get(tag) == wanted_values[tag]:
                continue
            if wanted_values[tag] is None:
                element = os_element.find(tag)
                if element is not None:
                    _remove(element)
            else:
                _child(os_element, tag, OS_ORDER).text = wanted_values[tag]

    def _write_image(self, spec: DomainSpec, old_container: bool, os_element: etree._Element) -> None:
        new_container = spec.hypervisor.is_container
        _, _, old_element = self._root_storage(old_container)
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

    def _write_interfaces(self, old: tuple[dict, ...], new: tuple[Interface, ...]) -> None:
        elements = self._modelled_interfaces()
        for index, interface in enumerate(new):
            wanted = interface.model_dump()
            if index < len(elements):
                if old[index] != wanted:
                    _update_interface(elements[index], old[index], wanted)
                continue
            element = etree.Element("interface", type="bridge" if interface.bridge else "network")
            if elements:
                _insert_after(elements[-1], element)
            else:
                _insert(_child(self.root, "devices", DOMAIN_ORDER), element, DEVICES_ORDER)
            _update_interface(element, dict.fromkeys(wanted), wanted)
            elements.append(element)
        for element in elements[len(new) :]:
            _remove(element)


# --------------------------------------------------------------------- interfaces
def _read_interface(element: etree._Element) -> dict[str, Any]:
    source = element.find("source")
    kind = element.get("type")
    def attribute(tag: str, name: str) -> str | None:
        child = element.find(tag)
        return child.get(name) if child is not None else None

    mac = attribute("mac", "address")
    return {
        "mac": mac.lower() if mac else None,
        "bridge": source.get("bridge") if source is not None and kind == "bridge" else None,
        "network": source.get("network") if source is not None and kind == "network" else None,
        "virtualport": attribute("virtualport", "type"),
        "target_dev": attribute("target", "dev"),
        "model": attribute("model", "type"),
    }


def _update_interface(element: etree._Element, old: dict[str, Any], new: dict[str, Any]) -> None:
    kind = "bridge" if new["bridge"] else "network"
    if element.get("type") != kind:
        element.set("type", kind)
    if old["mac"] != new["mac"]:
        _set_child_attribute(element, "mac", "address", new["mac"], INTERFACE_ORDER)
    if (old["bridge"], old["network"]) != (new["bridge"], new["network"]):
        source = _child(element, "source", INTERFACE_ORDER)
        for name in ("bridge", "network"):
            if name != kind and name in source.attrib:
                del source.attrib[name]
        source.set(kind, new[kind])
    if old["virtualport"] != new["virtualport"]:
        _set_child_attribute(element, "virtualport", "type", new["virtualport"], INTERFACE_ORDER)
    if old["target_dev"] != new["target_dev"]:
        _set_child_attribute(element, "target", "dev", new["target_dev"], INTERFACE_ORDER)
    if old["model"] != new["model"]:
        _set_child_attribute(element, "model", "type", new["model"], INTERFACE_ORDER)


def _set_child_attribute(parent: etree._Element, tag: str, name: str, value: str | None, order) -> None:
    """Set ``<tag name=value/>`` under parent; with value None drop the attribute, and the element
    too when nothing else is left in it."""
    child = parent.find(tag)
    if value is None:
        if child is None:
            return
        if name in child.attrib:
            del child.attrib[name]
        if not child.attrib and len(child) == 0:
            _remove(child)
        return
    if child is None:
        child = _child(parent, tag, order)
    child.set(name, value)


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


def _set_attribute(element: etree._Element, name: str, value: str | None) -> None:
    if value is None:
        if name in element.attrib:
            del element.attrib[name]
    else:
        element.set(name, value)


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
