"""The OpenFlow codec: known bytes from the specifications, round trips, and fuzzing."""

from __future__ import annotations

import struct
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfconsole.ondemand import openflow as of

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
u64 = st.integers(0, 2**64 - 1)
versions = st.sampled_from([of.Version.OF10, of.Version.OF13])
payload = st.binary(max_size=256)


def test_hello_with_bitmap_matches_the_1_3_wire_format():
    # OpenFlow 1.3.1 §7.5.1: element type 1, length 8 (4 header + one 32-bit bitmap), bits 1 and 4.
    assert of.Hello(4, 7, frozenset({1, 4})).encode() == bytes.fromhex("04 00 0010 00000007 0001 0008 00000012")


def test_hello_without_elements_is_a_bare_header():
    assert of.Hello(1, 0).encode() == bytes.fromhex("01 00 0008 00000000")


def test_features_reply_of_open_vswitch_1_3_gives_the_datapath_id():
    raw = bytes.fromhex("04 06 0020 00000001 0000000000000005 00000100 fe 00 0000 0000004f 00000000")
    message = of.decode(raw)
    assert isinstance(message, of.FeaturesReply)
    assert (message.datapath_id, message.n_buffers, message.n_tables, message.capabilities) == (5, 256, 254, 0x4F)
    assert message.ports == ()


def test_features_reply_1_0_carries_its_ports():
    port = of.PhyPort(1, b"\x02\xa1\xa1\xa1\xa1\xa1", "rfvmA.1", state=1)
    raw = of.FeaturesReply(1, 9, 0x7266767372667673, ports=(port,)).encode()
    assert len(raw) == 32 + 48
    decoded = of.decode(raw)
    assert isinstance(decoded, of.FeaturesReply)
    assert decoded.datapath_id == 0x7266767372667673 and decoded.ports == (port,)


def test_role_request_slave_1_3_layout():
    assert of.RoleRequest(4, 2, of.Role.SLAVE, 0x1122334455667788).encode() == bytes.fromhex(
        "04 18 0018 00000002 00000003 00000000 1122334455667788"
    )


def test_nicira_role_request_layout():
    # nicira-ext.h: struct nx_role_request = nicira_header (vendor 0x2320, subtype 10) + be32 role.
    assert of.NiciraRoleRequest(1, 3, of.NiciraRole.SLAVE).encode() == bytes.fromhex("01 04 0014 00000003 00002320 0000000a 00000002")


def test_set_async_is_32_bytes_of_zero_masks():
    raw = of.SetAsync(4, 5).encode()
    assert raw[:8] == bytes.fromhex("04 1c 0020 00000005") and raw[8:] == b"\0" * 24


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (bytes.fromhex("01 00 0007 00000000"), "shorter than"),
        (bytes.fromhex("00 00 0008 00000000"), "not OpenFlow"),
        (bytes.fromhex("04 00 0008"), "truncated header"),
        (bytes.fromhex("04 06 0010 00000000") + b"\0" * 8, "needs at least"),
        (bytes.fromhex("04 00 0010 00000000 0001 0040 00000012"), "does not fit"),
        (bytes.fromhex("01 06 0021 00000000") + b"\0" * 25, "not a multiple of 48"),
        (bytes.fromhex("04 02 000c 00000000 00"), "the header says 12"),
    ],
)
def test_malformed_messages_are_refused_with_a_reason(data, words):
    with pytest.raises(of.OpenFlowError, match=words):
        of.decode(data)


def test_length_above_the_configured_limit_is_refused():
    with pytest.raises(of.OpenFlowError, match="above the limit of 1024"):
        of.parse_header(bytes.fromhex("04 00 ffff 00000000"), max_length=1024)


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        ({1, 4}, of.Hello(6, versions=frozenset({1, 4, 5, 6})), 4),  # Open vSwitch's default: bitmap wins
        ({1, 4}, of.Hello(6, versions=frozenset({1})), 1),
        ({1, 4}, of.Hello(1), 1),  # a 1.0-only switch sends no bitmap
        ({1, 4}, of.Hello(6), 4),  # no bitmap, newer than us: our highest
        ({1, 4}, of.Hello(3), None),  # 1.2 only: nothing in common
        ({1, 4}, of.Hello(4, versions=frozenset({2, 3})), None),
    ],
)
def test_version_negotiation(ours, theirs, expected):
    assert of.negotiate(frozenset(ours), theirs) == expected


# --------------------------------------------------------------------------- properties
phy_ports = st.builds(
    of.PhyPort,
    port_no=u16,
    hw_addr=st.binary(min_size=6, max_size=6),
    name=st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=15),
    config=u32,
    state=u32,
    curr=u32,
    advertised=u32,
    supported=u32,
    peer=u32,
)
messages = st.one_of(
    st.builds(of.Hello, versions, u32, st.none() | st.frozensets(st.integers(0, 95), max_size=8)),
    st.builds(of.Error, versions, u32, u16, u16, payload),
    st.builds(of.EchoRequest, versions, u32, payload),
    st.builds(of.EchoReply, versions, u32, payload),
    st.builds(of.FeaturesRequest, versions, u32),
    st.builds(
        lambda xid, dpid, buffers, tables, caps, actions, ports: of.FeaturesReply(1, xid, dpid, buffers, tables, caps, actions, 0, tuple(ports)),
        u32, u64, u32, u8, u32, u32, st.lists(phy_ports, max_size=4),
    ),
    st.builds(lambda *a: of.FeaturesReply(4, *a), u32, u64, u32, u8, u32, u32, u8),
    st.builds(of.RoleRequest, st.just(4), u32, u32, u64, st.booleans()),
    st.builds(of.NiciraRoleRequest, st.just(1), u32, u32, st.booleans()),
    st.builds(lambda xid, *m: of.SetAsync(4, xid, m[0:2], m[2:4], m[4:6]), u32, u32, u32, u32, u32, u32, u32),
    st.builds(of.Unknown, versions, st.sampled_from([10, 12, 13, 14, 30]), u32, payload),
)


@given(messages)
def test_every_message_survives_a_round_trip(message):
    assert of.decode(message.encode()) == message


@given(st.binary(max_size=600))
@settings(max_examples=500)
def test_random_bytes_never_crash_the_decoder(data):
    try:
        message = of.decode(data)
    except of.OpenFlowError:
        return
    assert isinstance(message, typing.get_args(of.Message))


@given(st.sampled_from(list(of.Type)), versions, u32, st.binary(max_size=120))
@settings(max_examples=500)
def test_well_framed_random_bodies_decode_or_are_refused(kind, version, xid, body):
    data = struct.pack("!BBHI", version, kind, 8 + len(body), xid) + body
    try:
        of.decode(data)
    except of.OpenFlowError:
        pass
