"""The few OpenFlow messages a passive controller needs, encoded and decoded with ``struct``.

rfconsole is one more controller of a switch: it negotiates the version (HELLO, with the
version-bitmap element from OpenFlow 1.3.1 on), reads the datapath id (FEATURES), answers and
sends echoes, and asks for the slave role (OpenFlow 1.3 ROLE_REQUEST; on 1.0 the Nicira
vendor message NXT_ROLE_REQUEST that Open vSwitch understands). Every other message is kept
as ``Unknown`` and ignored. Wire format: OpenFlow 1.0.0 and 1.3.x specifications, section
"Protocol"; Nicira extensions: Open vSwitch's include/openflow/nicira-ext.h.

``decode`` never raises anything but ``OpenFlowError`` whatever the bytes (fuzzed in the tests).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

from rfconsole.errors import RfconsoleError

HEADER = struct.Struct("!BBHI")  # version, type, length, xid
HEADER_LENGTH = HEADER.size
MAX_LENGTH = 0xFFFF  # the length field is 16 bits


class OpenFlowError(RfconsoleError):
    """Bytes that are not the OpenFlow message they claim to be."""


class Version(IntEnum):
    OF10 = 0x01
    OF11 = 0x02
    OF12 = 0x03
    OF13 = 0x04
    OF14 = 0x05
    OF15 = 0x06

    @property
    def label(self) -> str:
        return f"OpenFlow 1.{self.value - 1}"


SUPPORTED_VERSIONS = frozenset({Version.OF10, Version.OF13})


class Type(IntEnum):
    """Message types; the first seven are the same in every version."""

    HELLO = 0
    ERROR = 1
    ECHO_REQUEST = 2
    ECHO_REPLY = 3
    EXPERIMENTER = 4  # OFPT_VENDOR in 1.0
    FEATURES_REQUEST = 5
    FEATURES_REPLY = 6
    PORT_STATUS = 12
    # OpenFlow 1.3 only
    ROLE_REQUEST = 24
    ROLE_REPLY = 25
    SET_ASYNC = 28


class Role(IntEnum):
    """OpenFlow 1.3 controller roles (ofp_controller_role)."""

    NOCHANGE = 0
    EQUAL = 1
    MASTER = 2
    SLAVE = 3


class NiciraRole(IntEnum):
    """Open vSwitch's roles for OpenFlow 1.0 (nx_role)."""

    OTHER = 0
    MASTER = 1
    SLAVE = 2


NICIRA_VENDOR_ID = 0x00002320
NXT_ROLE_REQUEST = 10
NXT_ROLE_REPLY = 11
OFPHET_VERSIONBITMAP = 1
OFPET_HELLO_FAILED = 0
OFPHFC_INCOMPATIBLE = 0
OFPET_BAD_REQUEST = 1
OFPET_ROLE_REQUEST_FAILED = 11  # OpenFlow 1.3
OFPRRFC_STALE = 0  # the role request's generation id is older than the switch's

_FEATURES10 = struct.Struct("!QIB3xII")  # datapath_id, n_buffers, n_tables, capabilities, actions
_FEATURES13 = struct.Struct("!QIBB2xII")  # datapath_id, n_buffers, n_tables, auxiliary_id, capabilities, reserved
_PHY_PORT10 = struct.Struct("!H6s16sIIIIII")
_ROLE13 = struct.Struct("!I4xQ")
_VENDOR = struct.Struct("!II")  # vendor id, subtype
_NX_ROLE = struct.Struct("!I")
_ASYNC13 = struct.Struct("!IIIIII")
_ERROR = struct.Struct("!HH")
_HELLO_ELEMENT = struct.Struct("!HH")


def _pack(version: int, kind: int, xid: int, body: bytes) -> bytes:
    length = HEADER_LENGTH + len(body)
    if length > MAX_LENGTH:
        raise OpenFlowError(f"message of {length} bytes is longer than OpenFlow's {MAX_LENGTH}")
    return HEADER.pack(version, kind, length, xid) + body


@dataclass(frozen=True)
class Header:
    version: int
    type: int
    length: int
    xid: int


def parse_header(data: bytes, max_length: int = MAX_LENGTH) -> Header:
    """The fixed 8-byte header; refuses lengths shorter than the header or above ``max_length``."""
    if len(data) < HEADER_LENGTH:
        raise OpenFlowError(f"truncated header: {len(data)} of {HEADER_LENGTH} bytes")
    version, kind, length, xid = HEADER.unpack_from(data)
    if version == 0 or version > 0x7F:
        raise OpenFlowError(f"version byte 0x{version:02x} is not OpenFlow")
    if length < HEADER_LENGTH:
        raise OpenFlowError(f"length {length} is shorter than the {HEADER_LENGTH}-byte header")
    if length > max_length:
        raise OpenFlowError(f"length {length} is above the limit of {max_length} bytes")
    return Header(version, kind, length, xid)


# --------------------------------------------------------------------------- messages
@dataclass(frozen=True)
class Hello:
    version: int
    xid: int = 0
    versions: frozenset[int] | None = None  # the version bitmap, when the peer sent one

    def encode(self) -> bytes:
        if self.versions is None:
            return _pack(self.version, Type.HELLO, self.xid, b"")
        bitmap = 0
        for number in self.versions:
            bitmap |= 1 << number
        words: list[int] = []
        while bitmap or not words:
            words.append(bitmap & 0xFFFFFFFF)
            bitmap >>= 32
        element = _HELLO_ELEMENT.pack(OFPHET_VERSIONBITMAP, 4 + 4 * len(words)) + struct.pack(f"!{len(words)}I", *words)
        element += b"\0" * (-len(element) % 8)
        return _pack(self.version, Type.HELLO, self.xid, element)


@dataclass(frozen=True)
class Error:
    version: int
    xid: int
    type: int
    code: int
    data: bytes = b""

    def encode(self) -> bytes:
        return _pack(self.version, Type.ERROR, self.xid, _ERROR.pack(self.type, self.code) + self.data)


@dataclass(frozen=True)
class EchoRequest:
    version: int
    xid: int
    data: bytes = b""

    def encode(self) -> bytes:
        return _pack(self.version, Type.ECHO_REQUEST, self.xid, self.data)


@dataclass(frozen=True)
class EchoReply:
    version: int
    xid: int
    data: bytes = b""

    def encode(self) -> bytes:
        return _pack(self.version, Type.ECHO_REPLY, self.xid, self.data)


@dataclass(frozen=True)
class FeaturesRequest:
    version: int
    xid: int

    def encode(self) -> bytes:
        return _pack(self.version, Type.FEATURES_REQUEST, self.xid, b"")


@dataclass(frozen=True)
class PhyPort:
    """An OpenFlow 1.0 port description (ofp_phy_port), as carried by FEATURES_REPLY."""

    port_no: int
    hw_addr: bytes = b"\0" * 6
    name: str = ""
    config: int = 0
    state: int = 0
    curr: int = 0
    advertised: int = 0
    supported: int = 0
    peer: int = 0

    def encode(self) -> bytes:
        name = self.name.encode("ascii", "replace")[:15]
        return _PHY_PORT10.pack(
            self.port_no, self.hw_addr, name, self.config, self.state, self.curr, self.advertised, self.supported, self.peer
        )

    @classmethod
    def decode(cls, data: bytes, offset: int) -> PhyPort:
        port_no, hw_addr, name, *rest = _PHY_PORT10.unpack_from(data, offset)
        return cls(port_no, hw_addr, name.split(b"\0", 1)[0].decode("ascii", "replace"), *rest)


@dataclass(frozen=True)
class FeaturesReply:
    """The switch's answer to FEATURES_REQUEST; only 1.0 lists ports, 1.3 has ``auxiliary_id``."""

    version: int
    xid: int
    datapath_id: int
    n_buffers: int = 0
    n_tables: int = 1
    capabilities: int = 0
    actions_or_reserved: int = 0
    auxiliary_id: int = 0
    ports: tuple[PhyPort, ...] = field(default=())

    def encode(self) -> bytes:
        if self.version == Version.OF10:
            body = _FEATURES10.pack(self.datapath_id, self.n_buffers, self.n_tables, self.capabilities, self.actions_or_reserved)
            body += b"".join(port.encode() for port in self.ports)
        else:
            body = _FEATURES13.pack(
                self.datapath_id, self.n_buffers, self.n_tables, self.auxiliary_id, self.capabilities, self.actions_or_reserved
            )
        return _pack(self.version, Type.FEATURES_REPLY, self.xid, body)


@dataclass(frozen=True)
class RoleRequest:
    """OpenFlow 1.2+ ROLE_REQUEST (type 24); ROLE_REPLY (25) has the same body."""

    version: int
    xid: int
    role: int
    generation_id: int = 0
    reply: bool = False

    def encode(self) -> bytes:
        kind = Type.ROLE_REPLY if self.reply else Type.ROLE_REQUEST
        return _pack(self.version, kind, self.xid, _ROLE13.pack(self.role, self.generation_id))


@dataclass(frozen=True)
class NiciraRoleRequest:
    """Open vSwitch's OpenFlow 1.0 role message (vendor 0x2320, NXT_ROLE_REQUEST / NXT_ROLE_REPLY)."""

    version: int
    xid: int
    role: int
    reply: bool = False

    def encode(self) -> bytes:
        subtype = NXT_ROLE_REPLY if self.reply else NXT_ROLE_REQUEST
        return _pack(self.version, Type.EXPERIMENTER, self.xid, _VENDOR.pack(NICIRA_VENDOR_ID, subtype) + _NX_ROLE.pack(self.role))


@dataclass(frozen=True)
class SetAsync:
    """OpenFlow 1.3 SET_ASYNC: which asynchronous messages this connection receives, as
    (master-or-equal, slave) bitmasks per kind. All zero: none at all."""

    version: int
    xid: int
    packet_in_mask: tuple[int, int] = (0, 0)
    port_status_mask: tuple[int, int] = (0, 0)
    flow_removed_mask: tuple[int, int] = (0, 0)

    def encode(self) -> bytes:
        return _pack(
            self.version, Type.SET_ASYNC, self.xid, _ASYNC13.pack(*self.packet_in_mask, *self.port_status_mask, *self.flow_removed_mask)
        )


@dataclass(frozen=True)
class Unknown:
    """A well-framed message rfconsole has no use for (packet-in, port status, …)."""

    version: int
    type: int
    xid: int
    body: bytes = b""

    def encode(self) -> bytes:
        return _pack(self.version, self.type, self.xid, self.body)


Message = Hello | Error | EchoRequest | EchoReply | FeaturesRequest | FeaturesReply | RoleRequest | NiciraRoleRequest | SetAsync | Unknown


# --------------------------------------------------------------------------- decoding
def _decode_hello(header: Header, body: bytes) -> Hello:
    versions: set[int] | None = None
    offset = 0
    while offset + _HELLO_ELEMENT.size <= len(body):
        kind, length = _HELLO_ELEMENT.unpack_from(body, offset)
        if length < _HELLO_ELEMENT.size or offset + length > len(body):
            raise OpenFlowError(f"HELLO element of length {length} does not fit the message")
        if kind == OFPHET_VERSIONBITMAP:
            words = (length - _HELLO_ELEMENT.size) // 4
            found = versions if versions is not None else set()
            for index, word in enumerate(struct.unpack_from(f"!{words}I", body, offset + _HELLO_ELEMENT.size)):
                found.update(32 * index + bit for bit in range(32) if word >> bit & 1)
            versions = found
        offset += length + (-length % 8)  # elements are padded to 8 bytes
    return Hello(header.version, header.xid, frozenset(versions) if versions is not None else None)


def _need(body: bytes, size: int, what: str) -> None:
    if len(body) < size:
        raise OpenFlowError(f"{what} body of {len(body)} bytes, needs at least {size}")


def _decode_features(header: Header, body: bytes) -> FeaturesReply:
    if header.version == Version.OF10:
        _need(body, _FEATURES10.size, "FEATURES_REPLY")
        datapath_id, n_buffers, n_tables, capabilities, actions = _FEATURES10.unpack_from(body)
        ports_data = len(body) - _FEATURES10.size
        if ports_data % _PHY_PORT10.size:
            raise OpenFlowError(f"FEATURES_REPLY port list of {ports_data} bytes is not a multiple of {_PHY_PORT10.size}")
        ports = tuple(PhyPort.decode(body, offset) for offset in range(_FEATURES10.size, len(body), _PHY_PORT10.size))
        return FeaturesReply(header.version, header.xid, datapath_id, n_buffers, n_tables, capabilities, actions, 0, ports)
    _need(body, _FEATURES13.size, "FEATURES_REPLY")
    datapath_id, n_buffers, n_tables, auxiliary_id, capabilities, reserved = _FEATURES13.unpack_from(body)
    return FeaturesReply(header.version, header.xid, datapath_id, n_buffers, n_tables, capabilities, reserved, auxiliary_id)


def decode_body(header: Header, body: bytes) -> Message:
    """The message whose header is ``header`` and whose remaining ``header.length - 8`` bytes are ``body``."""
    if len(body) != header.length - HEADER_LENGTH:
        raise OpenFlowError(f"body of {len(body)} bytes, the header says {header.length - HEADER_LENGTH}")
    kind, version, xid = header.type, header.version, header.xid
    try:
        if kind == Type.HELLO:
            return _decode_hello(header, body)
        if kind == Type.ERROR:
            _need(body, _ERROR.size, "ERROR")
            error_type, code = _ERROR.unpack_from(body)
            return Error(version, xid, error_type, code, body[_ERROR.size :])
        if kind == Type.ECHO_REQUEST:
            return EchoRequest(version, xid, body)
        if kind == Type.ECHO_REPLY:
            return EchoReply(version, xid, body)
        if kind == Type.FEATURES_REQUEST:
            return FeaturesRequest(version, xid)
        if kind == Type.FEATURES_REPLY:
            return _decode_features(header, body)
        if version >= Version.OF12 and kind in (Type.ROLE_REQUEST, Type.ROLE_REPLY):
            _need(body, _ROLE13.size, "ROLE message")
            role, generation_id = _ROLE13.unpack_from(body)
            return RoleRequest(version, xid, role, generation_id, reply=kind == Type.ROLE_REPLY)
        if version >= Version.OF13 and kind == Type.SET_ASYNC:
            _need(body, _ASYNC13.size, "SET_ASYNC")
            masks = _ASYNC13.unpack_from(body)
            return SetAsync(version, xid, masks[0:2], masks[2:4], masks[4:6])
        if kind == Type.EXPERIMENTER and len(body) == _VENDOR.size + _NX_ROLE.size:
            vendor, subtype = _VENDOR.unpack_from(body)
            if vendor == NICIRA_VENDOR_ID and subtype in (NXT_ROLE_REQUEST, NXT_ROLE_REPLY):
                (role,) = _NX_ROLE.unpack_from(body, _VENDOR.size)
                return NiciraRoleRequest(version, xid, role, reply=subtype == NXT_ROLE_REPLY)
    except struct.error as error:  # a guard above missed a size: still the caller's malformed input
        raise OpenFlowError(f"malformed message of type {kind}: {error}") from None
    return Unknown(version, kind, xid, body)


def decode(data: bytes, max_length: int = MAX_LENGTH) -> Message:
    """One whole message (header and body, nothing more)."""
    header = parse_header(data, max_length)
    if len(data) != header.length:
        raise OpenFlowError(f"{len(data)} bytes given, the header says {header.length}")
    return decode_body(header, data[HEADER_LENGTH:])


def negotiate(ours: frozenset[int], hello: Hello) -> int | None:
    """The version both ends speak (OpenFlow 1.3.1 §6.3.1), or None.

    With the peer's bitmap: the highest version in both sets. Without it: the smaller of the
    two highest versions, if we support it.
    """
    if hello.versions is not None:
        common = ours & hello.versions
        return max(common) if common else None
    candidate = min(max(ours), hello.version)
    return candidate if candidate in ours else None
