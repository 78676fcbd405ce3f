"""The listener against a simulated switch and hostile clients, over real TCP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import struct

import pytest

from rfconsole.errors import RfconsoleError, UsageError
from rfconsole.ondemand import openflow as of
from rfconsole.ondemand.listener import SwitchListener, parse_listen_address
from rfconsole.ondemand.registry import SwitchEventKind
from rfconsole.ondemand.simswitch import SimulatedSwitch

from .conftest import FAST

# What a passive slave controller may ever send a switch.
ALLOWED_FROM_LISTENER = (of.Hello, of.FeaturesRequest, of.EchoRequest, of.EchoReply, of.RoleRequest, of.NiciraRoleRequest, of.SetAsync, of.Error)


async def wait_for(predicate, timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def read_until_closed(host: str, port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send ``data`` as a raw client and half-close, then read until the listener closes the connection."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(data)
    writer.write_eof()
    await writer.drain()
    received = b""
    async with asyncio.timeout(timeout):
        try:
            while chunk := await reader.read(4096):
                received += chunk
        except ConnectionResetError:  # closed with our junk unread: a reset instead of a FIN
            pass
    writer.close()
    return received


async def test_openflow13_switch_comes_up_as_slave_with_async_messages_off(listener, events, registry):
    switch = SimulatedSwitch(5, versions=frozenset({of.Version.OF13, of.Version.OF10}))
    await switch.connect(*listener.address)
    event = await events.next()
    assert event.kind is SwitchEventKind.UP
    assert (event.switch.datapath_id, event.switch.version, event.switch.vms) == (5, "OpenFlow 1.3", ("rfvmA",))
    await wait_for(lambda: switch.of_kind(of.SetAsync))
    assert switch.role == "slave"
    assert registry.get(5).role == "slave"
    assert switch.of_kind(of.SetAsync) == [of.SetAsync(4, switch.of_kind(of.SetAsync)[0].xid)]  # every mask zero
    assert all(isinstance(message, ALLOWED_FROM_LISTENER) for message in switch.received)
    await switch.close()


async def test_openflow10_switch_without_bitmap_gets_the_nicira_slave_role(listener, events, registry):
    switch = SimulatedSwitch(6, versions=frozenset({of.Version.OF10}), send_bitmap=False)
    await switch.connect(*listener.address)
    event = await events.next()
    assert (event.switch.datapath_id, event.switch.version) == (6, "OpenFlow 1.0")
    await wait_for(lambda: registry.get(6).role == "slave")
    assert switch.role == "slave"
    assert switch.of_kind(of.NiciraRoleRequest)[0].role == of.NiciraRole.SLAVE
    assert not switch.of_kind(of.SetAsync)
    await switch.close()


async def test_slave_request_carries_the_generation_id_the_master_set(listener, events, registry):
    switch = SimulatedSwitch(5, generation_id=2**63 + 17)  # a master asked with this generation
    await switch.connect(*listener.address)
    await events.next()
    await wait_for(lambda: registry.get(5).role == "slave")
    slave_requests = [m for m in switch.of_kind(of.RoleRequest) if m.role == of.Role.SLAVE]
    assert [m.generation_id for m in slave_requests] == [2**63 + 17]
    assert not switch.of_kind(of.Error)
    await switch.close()


async def test_slave_request_is_retried_when_a_master_raises_the_generation_meanwhile(listener, events, registry, caplog):
    switch = SimulatedSwitch(5, generation_id=7, master_races=1)
    await switch.connect(*listener.address)
    await events.next()
    await wait_for(lambda: registry.get(5).role == "slave")
    assert [m.generation_id for m in switch.of_kind(of.RoleRequest) if m.role == of.Role.SLAVE] == [7, 8]
    assert "asking again" in caplog.text
    await switch.close()


async def test_slave_role_given_up_after_repeated_races_but_the_switch_stays_up(listener, events, registry, caplog):
    switch = SimulatedSwitch(5, master_races=10)
    await switch.connect(*listener.address)
    await events.next()
    await wait_for(lambda: "refused the slave role (error type 11 code 0)" in caplog.text)
    assert len([m for m in switch.of_kind(of.RoleRequest) if m.role == of.Role.SLAVE]) == 3
    assert registry.get(5).role == "equal" and switch.role == "equal"
    await switch.close()


async def test_switch_down_when_it_closes(listener, events, registry):
    switch = SimulatedSwitch(5)
    await switch.connect(*listener.address)
    assert (await events.next()).kind is SwitchEventKind.UP
    await switch.close()
    event = await events.next()
    assert (event.kind, event.switch.datapath_id) == (SwitchEventKind.DOWN, 5)
    assert event.reason.startswith("connection closed")
    assert registry.switches() == []


async def test_switch_down_on_echo_timeout(listener, events, caplog):
    switch = SimulatedSwitch(7, answer_echo=False)
    await switch.connect(*listener.address)
    up = await events.next()
    down = await events.next(timeout=FAST.echo_timeout + 3)
    assert down.kind is SwitchEventKind.DOWN and down.reason.startswith("echo timeout")
    assert down.monotonic - up.monotonic >= FAST.echo_timeout
    assert switch.of_kind(of.EchoRequest), "the listener asked before giving up"
    assert "switch 0000000000000007 down: echo timeout" in caplog.text
    await switch.close()


async def test_switch_stuck_in_the_middle_of_a_message_goes_down_at_the_echo_timeout(listener, events):
    switch = SimulatedSwitch(5)
    await switch.connect(*listener.address)
    await events.next()
    switch._writer.write(of.EchoRequest(4, 9, b"x" * 100).encode()[:20])  # then nothing: a slow-loris
    down = await events.next(timeout=FAST.echo_timeout + 3)
    assert down.kind is SwitchEventKind.DOWN and down.reason.startswith("echo timeout")
    await switch.close()


async def test_answering_switch_stays_up_past_the_echo_timeout(listener, events, registry):
    switch = SimulatedSwitch(5)
    await switch.connect(*listener.address)
    await events.next()
    await asyncio.sleep(FAST.echo_timeout * 2)
    assert events.empty() and [s.datapath_id for s in registry.switches()] == [5]
    assert switch.of_kind(of.EchoRequest)
    await switch.close()


async def test_echo_requests_are_answered_with_their_xid_and_data(listener, events):
    switch = SimulatedSwitch(5)
    await switch.connect(*listener.address)
    await events.next()
    await switch.send(of.EchoRequest(4, 4242, b"ping"))
    await wait_for(lambda: of.EchoReply(4, 4242, b"ping") in switch.received)
    await switch.close()


async def test_reconnect_replaces_the_old_connection_without_a_false_down(listener, events, registry):
    first = SimulatedSwitch(5)
    await first.connect(*listener.address)
    await events.next()
    second = SimulatedSwitch(5)
    await second.connect(*listener.address)
    assert (await events.next()).kind is SwitchEventKind.UP
    await first.close()
    await asyncio.sleep(0.2)
    assert events.empty(), "the old connection's close is not the switch going down"
    assert registry.get(5) is not None
    await second.close()
    assert (await events.next()).kind is SwitchEventKind.DOWN


@pytest.mark.parametrize(
    ("data", "logged"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "not HELLO"),
        (b"\x04\x00\x00", "truncated header (3 of 8 bytes)"),
        (bytes.fromhex("04 00 0004 00000000"), "shorter than the 8-byte header"),
        (bytes.fromhex("04 00 0040 00000000") + b"\0" * 10, "truncated message: 18 of 64 bytes"),
        (bytes.fromhex("00 00 0008 00000000"), "is not OpenFlow"),
        (of.Hello(3).encode(), "no common OpenFlow version"),
        (of.Hello(4).encode() + bytes.fromhex("04 06 0010 00000001") + b"\0" * 8, "needs at least"),
    ],
)
async def test_bad_clients_are_closed_with_a_log_line_and_the_listener_keeps_serving(listener, events, caplog, data, logged):
    host, port = listener.address
    received = await read_until_closed(host, port, data)
    assert received.startswith(of.Hello(4, 0, of.SUPPORTED_VERSIONS).encode())
    await wait_for(lambda: logged in caplog.text)
    assert f"connection from {host}:" in caplog.text
    switch = SimulatedSwitch(5)
    await switch.connect(host, port)
    assert (await events.next()).switch.datapath_id == 5
    await switch.close()


async def test_incompatible_switch_is_told_why(listener):
    received = await read_until_closed(*listener.address, of.Hello(3).encode())
    hello_length = len(of.Hello(4, 0, of.SUPPORTED_VERSIONS).encode())
    error = of.decode(received[hello_length:])
    assert isinstance(error, of.Error) and (error.type, error.code) == (of.OFPET_HELLO_FAILED, of.OFPHFC_INCOMPATIBLE)


async def test_oversized_message_is_refused_before_it_is_read(registry, caplog):
    settings = dataclasses.replace(FAST, max_message_bytes=1024)
    async with SwitchListener(registry, settings) as small:
        header = struct.pack("!BBHI", 4, 0, 60000, 0)
        await read_until_closed(*small.address, header)
    assert "length 60000 is above the limit of 1024 bytes" in caplog.text


async def test_slow_sender_is_closed_at_the_handshake_timeout(listener, caplog):
    host, port = listener.address
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection(host, port)
    started = loop.time()
    hello = of.Hello(4).encode()
    for byte in hello[:5]:  # a byte every 0.3 s: never a whole header in time
        writer.write(bytes([byte]))
        await asyncio.sleep(0.3)
    async with asyncio.timeout(5):
        while await reader.read(4096):
            pass
    assert loop.time() - started >= FAST.handshake_timeout
    assert f"handshake not complete after {FAST.handshake_timeout:g} s" in caplog.text
    writer.close()


async def test_flood_of_connections_is_capped_and_a_switch_still_gets_in(listener, events, caplog):
    host, port = listener.address
    held = [await asyncio.open_connection(host, port) for _ in range(FAST.max_connections)]
    await wait_for(lambda: listener.connection_count == FAST.max_connections)
    extra_reader, extra_writer = await asyncio.open_connection(host, port)
    async with asyncio.timeout(2):
        assert await extra_reader.read() == b""  # closed at once, nothing sent
    assert listener.refused == 1 and "limit" in caplog.text
    for _, writer in held:
        writer.close()
    await wait_for(lambda: listener.connection_count == 0)
    switch = SimulatedSwitch(6)
    await switch.connect(host, port)
    assert (await events.next()).switch.datapath_id == 6
    await switch.close()
    extra_writer.close()


async def test_packet_ins_and_unknown_messages_are_dropped(listener, events, registry):
    switch = SimulatedSwitch(5)
    await switch.connect(*listener.address)
    await events.next()
    for kind in (10, 12, 200):  # packet-in, port status, a type from the future
        await switch.send(of.Unknown(4, kind, 99, b"x" * 100))
    await switch.send(of.EchoRequest(4, 1, b""))
    await wait_for(lambda: switch.of_kind(of.EchoReply))
    assert registry.get(5) is not None


async def test_closing_the_listener_takes_its_switches_down(registry, events):
    async with SwitchListener(registry, FAST) as listener:
        switch = SimulatedSwitch(5)
        await switch.connect(*listener.address)
        await events.next()
    event = await events.next()
    assert (event.kind, event.reason) == (SwitchEventKind.DOWN, "listener stopped")
    await switch.close()


async def test_port_in_use_is_a_plain_error(registry, listener):
    host, port = listener.address
    with pytest.raises(RfconsoleError, match=f"cannot listen for OpenFlow switches on {host}:{port}") as caught:
        await SwitchListener(registry, dataclasses.replace(FAST, port=port)).start()
    assert "--listen" in caught.value.hint


@pytest.mark.parametrize(("text", "expected"), [("127.0.0.1:6653", ("127.0.0.1", 6653)), ("[::1]:6633", ("::1", 6633)), ("0.0.0.0:0", ("0.0.0.0", 0))])
def test_listen_address_parses(text, expected):
    assert parse_listen_address(text) == expected


@pytest.mark.parametrize("text", ["6653", "host:", "host:70000", ":6653", "a b:1", "[::1]"])
def test_bad_listen_address_says_what_is_expected(text):
    with pytest.raises(UsageError, match="is not HOST:PORT"):
        parse_listen_address(text)


async def test_random_bytes_from_many_clients_never_stop_the_listener(listener, events, caplog):
    rng = random.Random(20261124)
    host, port = listener.address
    blobs = [rng.randbytes(rng.randrange(0, 300)) for _ in range(60)]
    # Some start like a real HELLO, so the junk reaches the later stages of the handshake.
    blobs += [of.Hello(4, 1, of.SUPPORTED_VERSIONS).encode() + rng.randbytes(rng.randrange(0, 300)) for _ in range(60)]
    await asyncio.gather(*(read_until_closed(host, port, blob) for blob in blobs))
    await wait_for(lambda: listener.connection_count == 0)
    assert "Traceback" not in caplog.text and "failed" not in caplog.text
    switch = SimulatedSwitch(5)
    await switch.connect(host, port)
    assert (await events.next()).switch.datapath_id == 5
    await switch.close()


async def test_two_switches_with_one_datapath_id_are_up_until_the_last_one_closes(listener, events, registry, caplog):
    """Connections are tracked, not datapath ids: the newer one closing first is no "down"."""
    older, newer = SimulatedSwitch(5), SimulatedSwitch(5)
    await older.connect(*listener.address)
    await events.next()
    await newer.connect(*listener.address)
    assert (await events.next()).kind is SwitchEventKind.UP
    assert "while 1 other connection(s) claim the same datapath id" in caplog.text
    assert registry.connections(5) == 2 and [switch.datapath_id for switch in registry.switches()] == [5, 5]
    await newer.close()
    await wait_for(lambda: "still up through 1 other connection(s)" in caplog.text)
    assert events.empty() and registry.connections(5) == 1 and "switch 0000000000000005 down" not in caplog.text
    await older.close()
    event = await events.next()
    assert (event.kind, event.switch.datapath_id) == (SwitchEventKind.DOWN, 5)
    assert "switch 0000000000000005 down: connection closed" in caplog.text and registry.switches() == []


async def test_one_address_cannot_take_every_slot(registry, events, caplog):
    """Connections that complete the handshake and answer echoes hold a slot for as long as they
    like; one address may hold max_per_address of them, and a switch elsewhere still gets in."""
    settings = dataclasses.replace(FAST, max_connections=16, max_per_address=3)
    async with SwitchListener(registry, settings) as listener:
        squatters = [SimulatedSwitch(100 + index) for index in range(3)]
        for squatter in squatters:
            await squatter.connect(*listener.address, source="127.0.0.1")
        reader, writer = await asyncio.open_connection(*listener.address, local_addr=("127.0.0.1", 0))
        async with asyncio.timeout(2):
            assert await reader.read() == b""  # refused at once, nothing sent
        assert listener.refused == 1 and "3 connections open from 127.0.0.1, the limit per address" in caplog.text
        switch = SimulatedSwitch(6)
        await switch.connect(*listener.address, source="127.0.0.2")
        await wait_for(lambda: registry.get(6) is not None)
        assert registry.get(6).address.startswith("127.0.0.2:")
        for each in (*squatters, switch):
            await each.close()
        writer.close()
