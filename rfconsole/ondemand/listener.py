"""An asyncio OpenFlow endpoint that switches connect to as one more (slave) controller.

Per connection: HELLO both ways with version negotiation, FEATURES_REQUEST -> the datapath
id (the switch is then "up" in the registry), the slave role (1.3: ROLE_REQUEST after asking
the switch's current generation id; 1.0: Open vSwitch's NXT_ROLE_REQUEST), on 1.3 a SET_ASYNC
that turns off every asynchronous message to this connection, then only echoes both ways.
rfconsole never sends flows or packets, so the switch's real controller (RFProxy) keeps the
switch to itself.

A connection that sends garbage, a truncated or oversized header, does not finish the
handshake in time, or goes quiet past the echo timeout is closed with one log line; the
others, and the listening socket, carry on. Memory per connection is bounded by the largest
message accepted (the stream buffer pauses reading at twice that).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
from dataclasses import dataclass, field

from rfconsole.defaults import DEFAULT_LISTEN
from rfconsole.errors import RfconsoleError, UsageError
from rfconsole.ondemand import openflow as of
from rfconsole.ondemand.registry import SwitchRegistry, format_datapath_id

log = logging.getLogger("rfconsole.ondemand")

DEFAULT_HOST, DEFAULT_PORT = DEFAULT_LISTEN
MAX_ROLE_ATTEMPTS = 3  # slave requests refused as stale (a master raced us) before giving up


@dataclass(frozen=True)
class ListenerSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT  # 0: any free port (tests)
    handshake_timeout: float = 10.0  # HELLO to FEATURES_REPLY, seconds
    echo_interval: float = 5.0  # send an echo request after this long without hearing from the switch
    echo_timeout: float = 15.0  # the switch is down after this long without a message
    max_connections: int = 256
    max_per_address: int = 64  # connections from one IP address (many bridges of one host share it)
    max_message_bytes: int = of.MAX_LENGTH
    versions: frozenset[int] = field(default=of.SUPPORTED_VERSIONS)


def parse_listen_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6addr]:PORT`` for IPv6) -> (host, port)."""
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\s\[\]]+):(\d{1,5})", text.strip())
    port = int(match.group(2) or match.group(4)) if match else -1
    if not match or port > 65535:
        raise UsageError(
            f"listen address {text!r} is not HOST:PORT",
            hint=f"e.g. {DEFAULT_HOST}:{DEFAULT_PORT} (OpenFlow's port), or [::1]:6653 for IPv6; port 0..65535",
        )
    return match.group(1) or match.group(3), port


def _peer_address(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = peer[0], peer[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(peer)


def _peer_host(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else str(peer)


class _Closing(Exception):
    """Close this connection; the message says why (it goes to the log)."""


class _Connection:
    def __init__(self, listener: SwitchListener, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.listener = listener
        self.settings = listener.settings
        self.reader = reader
        self.writer = writer
        self.address = _peer_address(writer)
        self.version: int | None = None
        self.datapath_id: int | None = None
        self.last_seen = time.monotonic()
        self.close_reason: str | None = None
        self._xids = itertools.count(1)
        self._role_xids: dict[int, str] = {}  # xid -> "current" | "slave"
        self._role_attempts = 0

    def _next_xid(self) -> int:
        return next(self._xids) & 0xFFFFFFFF

    def _send(self, message: of.Message) -> None:
        self.writer.write(message.encode())

    async def _read(self) -> of.Message:
        try:
            data = await self.reader.readexactly(of.HEADER_LENGTH)
        except asyncio.IncompleteReadError as error:
            raise _Closing(
                "connection closed" if not error.partial else f"truncated header ({len(error.partial)} of 8 bytes), then EOF"
            ) from None
        header = of.parse_header(data, self.settings.max_message_bytes)
        if self.version is None and header.type != of.Type.HELLO:
            raise _Closing(f"first message has type {header.type}, not HELLO: not an OpenFlow switch")
        if self.version is not None and header.version != self.version:
            raise _Closing(f"message of version 0x{header.version:02x} on a connection that negotiated 0x{self.version:02x}")
        try:
            body = await self.reader.readexactly(header.length - of.HEADER_LENGTH)
        except asyncio.IncompleteReadError as error:
            raise _Closing(f"truncated message: {of.HEADER_LENGTH + len(error.partial)} of {header.length} bytes, then EOF") from None
        self.last_seen = time.monotonic()
        return of.decode_body(header, body)

    @property
    def label(self) -> str:
        if self.datapath_id is None:
            return f"connection from {self.address}"
        return f"switch {format_datapath_id(self.datapath_id)} ({self.address})"

    async def run(self) -> None:
        registry = self.listener.registry
        keepalive: asyncio.Task[None] | None = None
        reason = "connection closed"
        try:
            ours = self.settings.versions
            self._send(of.Hello(max(ours), 0, ours))
            async with asyncio.timeout(self.settings.handshake_timeout):
                features = await self._handshake()
            self.datapath_id = features.datapath_id
            version = of.Version(self._negotiated()).label
            others = registry.connections(features.datapath_id)
            if others:
                log.warning(
                    "switch %s up from %s (%s), while %d other connection(s) claim the same datapath id",
                    format_datapath_id(features.datapath_id),
                    self.address,
                    version,
                    others,
                )
            else:
                log.info("switch %s up from %s (%s)", format_datapath_id(features.datapath_id), self.address, version)
            registry.switch_up(self, features.datapath_id, self.address, version)
            self._ask_slave_role()
            await self.writer.drain()
            keepalive = asyncio.create_task(self._keepalive())
            while True:
                await self._dispatch(await self._read())
        except TimeoutError:
            reason = f"handshake not complete after {self.settings.handshake_timeout:g} s"
        except (_Closing, of.OpenFlowError) as error:
            reason = str(error)
        except ConnectionResetError:
            reason = "connection closed (reset)"
        except (ConnectionError, OSError) as error:
            reason = f"connection error: {error}"
        except asyncio.CancelledError:
            reason = "listener stopped"
            raise
        finally:
            if keepalive is not None:
                keepalive.cancel()
            if self.close_reason:  # the keepalive aborted the connection: its reason is the real one
                reason = self.close_reason
            self.writer.transport.abort()
            if self.datapath_id is not None:
                if registry.switch_down(self, self.datapath_id, reason) is not None:
                    log.info("switch %s down: %s", format_datapath_id(self.datapath_id), reason)
                else:
                    log.info(
                        "switch %s: its connection from %s closed (%s); still up through %d other connection(s)",
                        format_datapath_id(self.datapath_id),
                        self.address,
                        reason,
                        registry.connections(self.datapath_id),
                    )
            else:
                log.warning("%s closed: %s", self.label, reason)

    async def _handshake(self) -> of.FeaturesReply:
        hello = await self._read()
        assert isinstance(hello, of.Hello)  # _read refuses anything else before a version is set
        version = of.negotiate(self.settings.versions, hello)
        if version is None:
            offered = sorted(hello.versions) if hello.versions is not None else [hello.version]
            self._send(
                of.Error(
                    min(hello.version, max(self.settings.versions)),
                    hello.xid,
                    of.OFPET_HELLO_FAILED,
                    of.OFPHFC_INCOMPATIBLE,
                    b"rfconsole speaks OpenFlow 1.0 and 1.3",
                )
            )
            await self.writer.drain()
            raise _Closing(f"no common OpenFlow version (switch offers {', '.join(f'0x{v:02x}' for v in offered)})")
        self.version = version
        self._send(of.FeaturesRequest(version, self._next_xid()))
        await self.writer.drain()
        while True:
            message = await self._read()
            if isinstance(message, of.FeaturesReply):
                return message
            await self._dispatch(message)

    def _negotiated(self) -> int:
        """The version both ends agreed on in their HELLOs (every message after them carries it)."""
        if self.version is None:
            raise _Closing("no OpenFlow version agreed yet")
        return self.version

    def _ask_slave_role(self) -> None:
        self._role_attempts += 1
        version = self._negotiated()
        if version == of.Version.OF10:
            xid = self._next_xid()
            self._role_xids[xid] = "slave"
            self._send(of.NiciraRoleRequest(version, xid, of.NiciraRole.SLAVE))
        else:
            # A SLAVE request must carry a generation id no older than the one the switch holds
            # (from its master); ask for it first with NOCHANGE, which changes nothing.
            xid = self._next_xid()
            self._role_xids[xid] = "current"
            self._send(of.RoleRequest(version, xid, of.Role.NOCHANGE))

    def _role_granted(self) -> None:
        assert self.datapath_id is not None
        self.listener.registry.switch_role(self, self.datapath_id, "slave")
        log.info("switch %s: rfconsole is a slave controller", format_datapath_id(self.datapath_id))
        if self.version is not None and self.version >= of.Version.OF13:
            self._send(of.SetAsync(self.version, self._next_xid()))  # no packet-in, port status or flow removed

    async def _dispatch(self, message: of.Message) -> None:
        if isinstance(message, of.EchoRequest):
            self._send(of.EchoReply(message.version, message.xid, message.data))
        elif isinstance(message, of.RoleRequest) and message.reply:
            asked = self._role_xids.pop(message.xid, None)
            if asked == "current":
                xid = self._next_xid()
                self._role_xids[xid] = "slave"
                self._send(of.RoleRequest(message.version, xid, of.Role.SLAVE, message.generation_id))
            elif asked == "slave" and message.role == of.Role.SLAVE:
                self._role_granted()
        elif isinstance(message, of.NiciraRoleRequest) and message.reply:
            if self._role_xids.pop(message.xid, None) == "slave" and message.role == of.NiciraRole.SLAVE:
                self._role_granted()
        elif isinstance(message, of.Error):
            asked = self._role_xids.pop(message.xid, None)
            stale = (message.type, message.code) == (of.OFPET_ROLE_REQUEST_FAILED, of.OFPRRFC_STALE)
            if asked == "slave" and stale and self._role_attempts < MAX_ROLE_ATTEMPTS:
                # A master raised the generation id between our NOCHANGE and our SLAVE: ask again.
                log.info("%s: generation id changed under the slave request, asking again", self.label)
                self._ask_slave_role()
            elif asked is not None:
                log.warning(
                    "%s refused the slave role (error type %d code %d): rfconsole stays an equal controller, "
                    "which still sends the switch nothing but echoes",
                    self.label,
                    message.type,
                    message.code,
                )
            else:
                log.info("%s sent error type %d code %d (xid %d)", self.label, message.type, message.code, message.xid)
        # Anything else (packet-in, port status, a stray HELLO …) is read and dropped.
        await self.writer.drain()

    async def _keepalive(self) -> None:
        interval, timeout = self.settings.echo_interval, self.settings.echo_timeout
        while True:
            await asyncio.sleep(min(interval, timeout / 3))
            quiet = time.monotonic() - self.last_seen
            if quiet >= timeout:
                self.close_reason = f"echo timeout: nothing from the switch for {quiet:.1f} s"
                self.writer.transport.abort()
                return
            if quiet >= interval and self.version is not None:
                self._send(of.EchoRequest(self.version, self._next_xid()))


class SwitchListener:
    """Listens for switches; reports them to ``registry``. Use from one asyncio loop."""

    def __init__(self, registry: SwitchRegistry, settings: ListenerSettings | None = None) -> None:
        self.registry = registry
        self.settings = settings or ListenerSettings()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.refused = 0  # connections closed at once: max_connections, or max_per_address from one address, were open
        self._per_address: dict[str, int] = {}  # peer IP address -> connections open

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the real port when the settings asked for 0)."""
        if self._server is None or not self._server.sockets:
            return self.settings.host, self.settings.port
        name = self._server.sockets[0].getsockname()
        return name[0], name[1]

    @property
    def connection_count(self) -> int:
        return len(self._tasks)

    async def start(self) -> tuple[str, int]:
        try:
            self._server = await asyncio.start_server(
                self._accept, self.settings.host, self.settings.port, limit=self.settings.max_message_bytes, reuse_address=True
            )
        except OSError as error:
            raise RfconsoleError(
                f"cannot listen for OpenFlow switches on {self.settings.host}:{self.settings.port}: {error.strerror or error}",
                hint="another program has that port (RFProxy uses 6633, another rfconsole watch 6653?): "
                "choose another with --listen HOST:PORT, or an address this host has",
            ) from None
        log.info("listening for OpenFlow switches on %s:%d", *self.address)
        return self.address

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = _peer_host(writer)
        if len(self._tasks) >= self.settings.max_connections:
            self.refused += 1
            log.warning(
                "connection from %s refused: %d connections open, the limit", _peer_address(writer), self.settings.max_connections
            )
            writer.transport.abort()
            return
        if self._per_address.get(host, 0) >= self.settings.max_per_address:
            self.refused += 1
            log.warning(
                "connection from %s refused: %d connections open from %s, the limit per address",
                _peer_address(writer),
                self.settings.max_per_address,
                host,
            )
            writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._per_address[host] = self._per_address.get(host, 0) + 1
        try:
            await _Connection(self, reader, writer).run()
        except asyncio.CancelledError:
            pass
        except Exception:  # a bug in one connection must not take the listener down
            log.exception("connection from %s failed", _peer_address(writer))
            writer.transport.abort()
        finally:
            self._tasks.discard(task)
            self._per_address[host] -= 1
            if not self._per_address[host]:
                del self._per_address[host]

    async def close(self) -> None:
        """Stop listening and close every connection (their switches go down)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> SwitchListener:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
