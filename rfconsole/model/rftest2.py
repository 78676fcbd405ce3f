"""RouteFlow's rftest2: its four VMs (rfvmA–rfvmD), its naming carried on to a fifth and sixth
router (rfvmE, rfvmF), and RouteFlow's switch-to-VM CSV.

Each VM has a management NIC eth0 (the VM's "vm_id" MAC) on a host bridge, lxcbr0 by default
as in rftest2, and data NICs eth1… on the Open vSwitch bridge dp0, host-side names rfvmA.1…
The image convention of the seed: rfvmA -> Images/h1.img … rfvmD -> Images/h4.img (rfvmE -> h5).
This module is the one place of that naming: the presets of `xml new` and of the wizard, and
the names, MACs, id and image `clone` gives a new rfvmE, all come from ``Rftest2VM``.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from rfconsole.errors import RfconsoleError

if TYPE_CHECKING:
    from rfconsole.model.spec import DomainSpec, Hypervisor, Interface

# spec (pydantic) and safexml (lxml) are imported in the functions that use them: the command
# line's parsers read the names and bridges here, and `rfconsole --help` imports neither.

MANAGEMENT_BRIDGE = "lxcbr0"
DATA_BRIDGE = "dp0"
RFTEST2_SWITCH_DPID = 0x7266767372667673  # dp0, "rfvsrfvs": the switch the data NICs plug into
CSV_HEADER = ("vm_id", "vm_port", "ct_id", "dp_id", "dp_port")
MAX_CSV_BYTES = 16 * 1024 * 1024


MAX_DATA_PORT = 9  # a data MAC repeats "<letter><port>": one hex digit for the port
EXTENSION_DATA_NICS = 4  # rfvmE, rfvmF: rfvmA's shape, what `clone rfvmA rfvmE` gives


@dataclass(frozen=True)
class Rftest2VM:
    """One VM of rftest2's naming: its letter (a–f) says everything else. rfvmA is number 1,
    image h1.img, eth0 02:a0:a0:a0:a0:a0, data NIC k 02:ak:ak:ak:ak:ak as host-side rfvmA.k,
    switch (datapath id) 4 + number."""

    letter: str  # one hex digit a–f: the MACs repeat it, so the naming stops at rfvmF
    data_nics: int

    @property
    def name(self) -> str:
        return f"rfvm{self.letter.upper()}"

    @property
    def default_id(self) -> int:
        return ord(self.letter) - ord("a") + 1

    @property
    def eth0_mac(self) -> str:
        return ":".join(["02"] + [f"{self.letter}0"] * 5)

    def data_mac(self, port: int) -> str:
        if not 1 <= port <= MAX_DATA_PORT:
            raise RfconsoleError(f"rftest2's MAC convention has data ports 1 to {MAX_DATA_PORT}; {self.name} would need port {port}")
        return ":".join(["02"] + [f"{self.letter}{port}"] * 5)

    @property
    def data_macs(self) -> tuple[str, ...]:
        return tuple(self.data_mac(port) for port in range(1, self.data_nics + 1))

    @property
    def image_name(self) -> str:
        return f"h{self.default_id}.img"

    @property
    def datapath_id(self) -> int:
        """The OpenFlow switch this VM routes for: 5 for rfvmA … 8 for rfvmD, 9 for rfvmE."""
        return 4 + self.default_id

    @property
    def data_devices(self) -> tuple[str, ...]:
        """Host-side names of the data NICs: rfvmA.1, rfvmA.2, …"""
        return tuple(f"{self.name}.{index}" for index in range(1, self.data_nics + 1))

    def interfaces(self, management_bridge: str | None = MANAGEMENT_BRIDGE, data_bridge: str = DATA_BRIDGE) -> tuple[Interface, ...]:
        """eth0 on the management bridge (left out when it is None), then the data NICs on dp0."""
        from rfconsole.model.spec import Interface

        nics = []
        if management_bridge is not None:
            nics.append(Interface(mac=self.eth0_mac, bridge=management_bridge))
        for mac, device in zip(self.data_macs, self.data_devices):
            nics.append(Interface(mac=mac, bridge=data_bridge, virtualport="openvswitch", target_dev=device))
        return tuple(nics)


# rftest2's own four (the default VMs of every command, the console's slots) …
RFTEST2_VMS: dict[str, Rftest2VM] = {vm.name: vm for vm in (Rftest2VM("a", 4), Rftest2VM("b", 3), Rftest2VM("c", 3), Rftest2VM("d", 4))}
# … and the naming carried on for a fifth and a sixth router: the presets of `xml new` and the
# wizard, and the names `clone` gives rftest2's MACs, id and image.
RFTEST2_PRESETS: dict[str, Rftest2VM] = {**RFTEST2_VMS, **{vm.name: vm for vm in (Rftest2VM("e", EXTENSION_DATA_NICS), Rftest2VM("f", EXTENSION_DATA_NICS))}}


def rftest2_naming(name: str) -> Rftest2VM | None:
    """The VM of rftest2's naming called ``name`` (rfvmA … rfvmF, any case), else None."""
    return RFTEST2_PRESETS.get(f"rfvm{name[4:].upper()}") if len(name) == 5 and name[:4].lower() == "rfvm" else None


def rftest2_vm(name: str) -> Rftest2VM:
    """The preset called ``name`` (case-insensitive), or an error listing them."""
    vm = rftest2_naming(str(name))
    if vm is None:
        raise RfconsoleError(
            f"no rftest2 preset called {name!r}: the presets are {', '.join(RFTEST2_PRESETS)}",
            hint="the naming stops at rfvmF (its MACs use the letter as a hex digit, 02:f0:…); for other VMs give --name and --nic",
        )
    return vm


@runtime_checkable
class HasImagesDir(Protocol):
    """A working folder (rfconsole.store.Workdir, a layer above)."""

    @property
    def images_dir(self) -> Path: ...


def preset_spec(
    vm: str | Rftest2VM,
    hypervisor: Hypervisor | str,
    workdir: HasImagesDir | str | os.PathLike[str],
    management_bridge: str | None = MANAGEMENT_BRIDGE,
    data_bridge: str = DATA_BRIDGE,
    **overrides: Any,
) -> DomainSpec:
    """rftest2's settings for ``vm`` as a DomainSpec; ``overrides`` (DomainSpec fields) win,
    ``None`` meaning "keep the preset's". ``workdir`` is a Workdir or a folder: the image is
    <workdir>/Images/h<N>.img unless ``image`` is overridden."""
    from rfconsole.model.spec import DomainSpec

    preset = vm if isinstance(vm, Rftest2VM) else rftest2_vm(vm)
    images = workdir.images_dir if isinstance(workdir, HasImagesDir) else Path(workdir) / "Images"
    settings: dict[str, Any] = {
        "hypervisor": hypervisor,
        "name": preset.name,
        "id": preset.default_id,
        "image": Path(images).absolute() / preset.image_name,
        "interfaces": preset.interfaces(management_bridge, data_bridge),
    }
    settings.update({key: value for key, value in overrides.items() if value is not None})
    return DomainSpec(**settings)


# --------------------------------------------------------------------- RouteFlow's CSV
class CsvError(RfconsoleError):
    """RouteFlow's CSV has rows that cannot be read; the message names each line."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:20] + ([f"… and {len(problems) - 20} more"] if len(problems) > 20 else [])
        super().__init__(
            f"{source}: " + ("\n  ".join(["rows that cannot be read:"] + shown) if len(problems) > 1 else problems[0]),
            hint="each row is vm_id,vm_port,ct_id,dp_id,dp_port with vm_id and dp_id in hex (0x optional)",
        )


@dataclass(frozen=True)
class RouteflowRow:
    line: int
    vm_id: int
    vm_port: int
    ct_id: int
    dp_id: int
    dp_port: int

    @property
    def vm_mac(self) -> str:
        return mac_from_vm_id(self.vm_id)


@dataclass
class RouteflowMap:
    """Which VMs serve which switch: datapath id -> the VMs' eth0 MACs, in file order."""

    rows: list[RouteflowRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def datapaths(self) -> dict[int, tuple[str, ...]]:
        mapping: dict[int, list[str]] = {}
        for row in self.rows:
            macs = mapping.setdefault(row.dp_id, [])
            if row.vm_mac not in macs:
                macs.append(row.vm_mac)
        return {dp_id: tuple(macs) for dp_id, macs in mapping.items()}

    def macs_for(self, dp_id: int) -> tuple[str, ...]:
        return self.datapaths.get(dp_id, ())

    def ports_of(self, eth0_mac: str) -> dict[int, tuple[int, int]]:
        """The VM whose eth0 has ``eth0_mac`` (its vm_id): VM port N (its ethN) -> (datapath id, switch port)."""
        vm_id = vm_id_from_mac(eth0_mac)
        return {row.vm_port: (row.dp_id, row.dp_port) for row in self.rows if row.vm_id == vm_id}

    def vm_names(self, specs: Iterable[DomainSpec]) -> dict[int, tuple[str, ...]]:
        """datapath id -> names of the VMs (among ``specs``) that have one of the mapped MACs."""
        by_mac: dict[str, str] = {}
        for spec in specs:
            for interface in spec.interfaces:
                if interface.mac:
                    by_mac.setdefault(interface.mac, spec.name)
        result = {}
        for dp_id, macs in self.datapaths.items():
            names = []
            for mac in macs:
                name = by_mac.get(mac)
                if name is not None and name not in names:
                    names.append(name)
            result[dp_id] = tuple(names)
        return result


def mac_from_vm_id(vm_id: int) -> str:
    """RouteFlow's vm_id (the eth0 MAC read as a hex number) back to a MAC: 0x2A0A0A0A0A0 -> 02:a0:…"""
    digits = f"{vm_id:012x}"
    return ":".join(digits[index : index + 2] for index in range(0, 12, 2))


def vm_id_from_mac(mac: str) -> int:
    return int(mac.replace(":", ""), 16)


def _hex(text: str, what: str, limit: int) -> int:
    value = text.strip()
    body = value[2:] if value.lower().startswith("0x") else value
    if not re.fullmatch(r"[0-9a-fA-F]{1,16}", body):
        raise ValueError(f"{what} {value!r} is not a hex number (e.g. 2A0A0A0A0A0 or 0x5)")
    number = int(body, 16)
    if number >= limit:
        raise ValueError(f"{what} {value!r} is too big")
    return number


def _decimal(text: str, what: str) -> int:
    value = text.strip()
    if not re.fullmatch(r"[0-9]{1,10}", value):
        raise ValueError(f"{what} {value!r} is not a whole number")
    return int(value)


def _header_mismatch(cells: list[str]) -> str:
    """How a first line differs from RouteFlow's header, in words that quote none of it."""
    expected = ",".join(CSV_HEADER)
    for position, (cell, name) in enumerate(zip(cells, CSV_HEADER), start=1):
        if cell.lower() != name:
            return f"the first line must be the header {expected}, and its column {position} is not {name}"
    return f"the first line must be the header {expected}, and it has {len(cells)} columns, not {len(CSV_HEADER)}"


def parse_routeflow_csv(text: str, source: str = "<csv>") -> RouteflowMap:
    """Read RouteFlow's CSV text; bad rows are collected with their line numbers in ``problems``."""
    result = RouteflowMap()
    header_seen = False
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            result.problems.append(f"line {reader.line_num}: not CSV ({error})")
            return result
        number = reader.line_num
        cells = [cell.strip() for cell in row]
        if not cells or all(not cell for cell in cells) or cells[0].startswith("#"):
            continue
        if not header_seen:
            header_seen = True
            if tuple(cell.lower() for cell in cells) != CSV_HEADER:
                # The line itself is never shown: a file that is not RouteFlow's CSV (a link to
                # /etc/shadow, say) must not have its content echoed to a terminal or a log.
                result.problems.append(f"line {number}: not RouteFlow's CSV: {_header_mismatch(cells)}")
                return result
            continue
        if len(cells) != len(CSV_HEADER):
            result.problems.append(f"line {number}: {len(cells)} columns, expected 5 ({','.join(CSV_HEADER)})")
            continue
        try:
            result.rows.append(
                RouteflowRow(
                    line=number,
                    vm_id=_hex(cells[0], "vm_id", 2**48),
                    vm_port=_decimal(cells[1], "vm_port"),
                    ct_id=_decimal(cells[2], "ct_id"),
                    dp_id=_hex(cells[3], "dp_id", 2**64),
                    dp_port=_decimal(cells[4], "dp_port"),
                )
            )
        except ValueError as error:
            result.problems.append(f"line {number}: {error}")
    if not header_seen:
        result.problems.append(f"line 1: the file is empty; expected the header {','.join(CSV_HEADER)}")
    return result


def read_routeflow_csv(path: str | os.PathLike[str], strict: bool = True) -> RouteflowMap:
    """RouteFlow's CSV file as a RouteflowMap; with ``strict`` any bad row raises CsvError."""
    from rfconsole.model.safexml import read_untrusted_file

    try:
        data = read_untrusted_file(path, limit=MAX_CSV_BYTES, what="RouteFlow's CSV")
    except RfconsoleError as error:
        raise CsvError(str(path), [error.message.removeprefix(f"{path}: ")]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CsvError(str(path), [f"line {line}: not UTF-8 text"]) from None
    mapping = parse_routeflow_csv(text, str(path))
    if strict and mapping.problems:
        raise CsvError(str(path), mapping.problems)
    return mapping


# --------------------------------------------------------------------- a new VM's rows
ROUTEFLOW_CT_ID = 0  # rftest2's one controller


class RouteflowRowsError(RfconsoleError):
    """The VM's rows cannot be made, or would contradict rows RouteFlow's CSV already has."""


def format_datapath_id(datapath_id: int) -> str:
    """16 hex digits, the way Open vSwitch (and `rfconsole watch`'s log) writes it: 5 -> 0000000000000005."""
    return f"{datapath_id:016x}"


DATAPATH_ID_RULE = "decimal, or hex with 0x (e.g. 9 or 0x7266767372667673), at most 64 bits"


def datapath_id_problem(text: str) -> str | None:
    """Why ``text`` is not a datapath id as people write it (decimal, or hex with 0x), or None."""
    try:
        parse_datapath_id(text)
    except RfconsoleError:
        return f"not a datapath id: {DATAPATH_ID_RULE}"
    return None


def parse_datapath_id(text: str, what: str = "datapath id") -> int:
    """A datapath id as people (and rfconsole.toml's [ondemand.map]) write it: decimal, or hex
    with 0x (5, 0x7266767372667673)."""
    value = str(text).strip().lower()
    try:
        number = int(value[2:], 16) if value.startswith("0x") else int(value, 10)
    except ValueError:
        number = -1
    if not 0 <= number < 2**64:
        raise RfconsoleError(f"{what} {text!r} is not a datapath id: {DATAPATH_ID_RULE}")
    return number


def routeflow_rows(spec: DomainSpec, datapath_id: int | None = None) -> list[RouteflowRow]:
    """The rows of RouteFlow's CSV for the VM ``spec``: its data NIC k (host-side name NAME.k) is
    VM port k on port k of its switch, vm_id its eth0 MAC, ct_id 0, as rftest2's CSV has them. The
    switch is ``datapath_id``, else rftest2's naming's (rfvmE -> 9)."""
    naming = rftest2_naming(spec.name)
    if datapath_id is None:
        if naming is None:
            raise RouteflowRowsError(
                f"{spec.name} is not named by rftest2's naming (rfvmA–rfvmF), so which switch it serves is not known",
                hint="give the switch's datapath id with --datapath-id ID",
            )
        datapath_id = naming.datapath_id
    ports = [(port, interface) for interface in spec.interfaces for port in [_data_port(interface.target_dev)] if port is not None]
    if not ports:
        raise RouteflowRowsError(
            f"{spec.name} has no data NICs (host-side names {spec.name}.1, {spec.name}.2 …), so RouteFlow has no port of it to map",
            hint="give it data NICs (a preset has them, or --nic bridge=dp0,ovs,target=NAME.1)",
        )
    numbers = [port for port, _ in ports]
    doubled = sorted({port for port in numbers if numbers.count(port) > 1})
    if doubled:
        raise RouteflowRowsError(
            f"{spec.name} has two data NICs for port {doubled[0]} (host-side names ending in .{doubled[0]}), so its rows would contradict each other",
            hint="give each data NIC its own number: NAME.1, NAME.2 …",
        )
    data = {interface.mac for _, interface in ports}
    management = [interface.mac for interface in spec.interfaces if interface.mac and interface.mac not in data]
    preferred = naming.eth0_mac if naming is not None and naming.eth0_mac in management else None
    eth0 = preferred or (management[0] if management else None)
    if eth0 is None:
        raise RouteflowRowsError(
            f"{spec.name} has no management NIC (eth0) with a MAC, and RouteFlow names a VM by that MAC (vm_id)",
            hint="keep the preset's eth0 (leave out --management-bridge none), or add one with --nic bridge=BR,mac=M",
        )
    vm_id = vm_id_from_mac(eth0)
    return [RouteflowRow(0, vm_id, port, ROUTEFLOW_CT_ID, datapath_id, port) for port, _ in sorted(ports, key=lambda pair: pair[0])]


def new_vm_rows(spec: DomainSpec, datapath_id: int | None = None, asked: bool = False) -> list[RouteflowRow]:
    """The rows a new VM (``xml new``, ``clone``) brings to RouteFlow's CSV. ``asked`` (a CSV file
    or a switch was given): its rows, or RouteflowRowsError saying why there are none. Else the
    rows of a router rftest2's naming adds (rfvmE, rfvmF), for the faces to show; none for the
    four rftest2's CSV already has, or for any other VM."""
    if asked or datapath_id is not None:
        return routeflow_rows(spec, datapath_id)
    naming = rftest2_naming(spec.name)
    if naming is None or naming.name in RFTEST2_VMS:
        return []
    try:
        return routeflow_rows(spec)
    except RouteflowRowsError:
        return []  # e.g. its data NICs were left out: nothing for RouteFlow to map


def _data_port(target_dev: str | None) -> int | None:
    """k for a data NIC, whose host-side name is <VM>.k (rfvmE.1; a preset renamed keeps rfvmA.1)."""
    match = re.fullmatch(r".+\.([1-9][0-9]*)", target_dev or "")
    return int(match.group(1)) if match else None


def add_routeflow_rows(current: bytes | None, rows: Iterable[RouteflowRow], source: str = "<csv>") -> tuple[bytes | None, list[RouteflowRow]]:
    """RouteFlow's CSV ``current`` (None: no file yet, written with its header) with ``rows``
    appended, and the rows that were not there yet. Everything already in the file is kept byte
    for byte. A row already there is not added twice (None when nothing is to be written); a row
    that maps a VM port or a switch port the file maps otherwise is refused (RouteflowRowsError
    naming the line), as is a file that is not RouteFlow's CSV (CsvError)."""
    rows = list(rows)
    text = ""
    if current:
        try:
            text = current.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = current[: error.start].count(b"\n") + 1
            raise CsvError(source, [f"line {line}: not UTF-8 text"]) from None
    existing = parse_routeflow_csv(text, source) if text.strip() else RouteflowMap()
    if existing.problems:
        raise CsvError(source, existing.problems)
    by_vm_port = {(row.vm_id, row.vm_port): row for row in existing.rows}
    by_dp_port = {(row.dp_id, row.dp_port): row for row in existing.rows}
    added = []
    for row in rows:
        same = by_vm_port.get((row.vm_id, row.vm_port))
        if same is not None and (same.dp_id, same.dp_port, same.ct_id) == (row.dp_id, row.dp_port, row.ct_id):
            continue
        for clash in (same, by_dp_port.get((row.dp_id, row.dp_port))):
            if clash is not None:
                raise RouteflowRowsError(
                    f"{source} line {clash.line} already maps VM {_hex_cell(clash.vm_id, False)} ({clash.vm_mac}) port {clash.vm_port} "
                    f"to switch {_hex_cell(clash.dp_id, False)} port {clash.dp_port}; the new row would map VM "
                    f"{_hex_cell(row.vm_id, False)} ({row.vm_mac}) port {row.vm_port} to switch {_hex_cell(row.dp_id, False)} port {row.dp_port}",
                    hint="nothing was written: remove the old rows from the file first, or give the VM another switch (--datapath-id)",
                )
        added.append(row)
    if not added:
        return None, []
    prefixed = _uses_0x(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = [] if text.strip() else [",".join(CSV_HEADER)]
    lines += [format_routeflow_row(row, prefixed) for row in added]
    head = current or b""
    if head and not head.endswith(b"\n"):
        head += newline.encode()
    return head + (newline.join(lines) + newline).encode(), added


def rows_added_words(csv_path: object, name: str, rows: list[RouteflowRow], added: list[RouteflowRow]) -> str:
    """What adding a VM's rows did, in words: 'added 4 rows to … : rfvmE serves switch 9 …'."""
    switch = ", ".join(sorted({format_datapath_id(row.dp_id) for row in rows}))
    if not added:
        return f"{csv_path} already maps {name} to switch {switch}"
    return f"added {len(added)} rows to {csv_path}: {name} serves switch {switch} (rfconsole watch boots it when that switch connects)"


def format_routeflow_row(row: RouteflowRow, prefixed: bool = False) -> str:
    """One CSV line: ids in upper-case hex (with 0x when the file writes them so)."""
    return f"{_hex_cell(row.vm_id, prefixed)},{row.vm_port},{row.ct_id},{_hex_cell(row.dp_id, prefixed)},{row.dp_port}"


def _hex_cell(number: int, prefixed: bool) -> str:
    return f"{'0x' if prefixed else ''}{number:X}"


def _uses_0x(text: str) -> bool:
    """Whether the file's rows write their ids with 0x (later RouteFlow versions do)."""
    for row in csv.reader(io.StringIO(text)):
        if row and row[0].strip().lower() not in ("", "vm_id") and not row[0].strip().startswith("#"):
            return row[0].strip().lower().startswith("0x")
    return False
