"""The switch side of the handshake, for tests and bench/ondemand.py (not used by rfconsole itself).

``SimulatedSwitch`` connects to a controller, negotiates, answers FEATURES_REQUEST with its
datapath id, answers echoes and role requests the way Open vSwitch does (a SLAVE or MASTER
request older than the generation id it holds is refused with ROLE_REQUEST_FAILED/STALE),
and records every message it gets, so a test can check the controller sent nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib

from rfconsole.ondemand import openflow as of

NX_TO_ROLE: dict[int, str] = {of.NiciraRole.OTHER: "equal", of.NiciraRole.MASTER: "master", of.NiciraRole.SLAVE: "slave"}
OF_TO_ROLE = {of.Role.EQUAL: "equal", of.Role.MASTER: "master", of.Role.SLAVE: "slave"}


class SimulatedSwitch:
    def __init__(
        self,
        datapath_id: int,
        versions: frozenset[int] = frozenset({of.Version.OF13}),
        send_bitmap: bool = True,
        answer_echo: bool = True,
        generation_id: int | None = None,
        ports: tuple[of.PhyPort, ...] = (),
        master_races: int = 0,
    ) -> None:
        self.datapath_id = datapath_id
        self.versions = versions
        self.send_bitmap = send_bitmap
        self.answer_echo = answer_echo
        self.generation_id = generation_id  # what a master has set, if any
        self.ports = ports
        self.master_races = master_races  # this many times, a master raises the generation id right after a NOCHANGE
        self.version: int | None = None
        self.role = "equal"
        self.received: list[of.Message] = []
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()

    async def _read(self) -> of.Message:
        assert self._reader is not None
        header = of.parse_header(await self._reader.readexactly(of.HEADER_LENGTH))
        body = await self._reader.readexactly(header.length - of.HEADER_LENGTH)
        message = of.decode_body(header, body)
        self.received.append(message)
        return message

    def _send(self, message: of.Message) -> None:
        assert self._writer is not None
        self._writer.write(message.encode())

    async def connect(self, host: str, port: int, timeout: float = 10.0, source: str | None = None) -> None:
        """Connect (from IP address ``source`` when given, e.g. 127.0.0.2) and complete the
        handshake (up to the FEATURES_REPLY), then keep answering."""
        async with asyncio.timeout(timeout):
            self._reader, self._writer = await asyncio.open_connection(host, port, local_addr=(source, 0) if source else None)
            top = max(self.versions)
            self._send(of.Hello(top, 1, self.versions if self.send_bitmap else None))
            hello = await self._read()
            assert isinstance(hello, of.Hello), hello
            version = of.negotiate(self.versions, hello)
            if version is None:
                raise ConnectionError(f"no common version with the controller (it offers {hello})")
            self.version = version
            while True:
                message = await self._read()
                if isinstance(message, of.FeaturesRequest):
                    self._send(
                        of.FeaturesReply(version, message.xid, self.datapath_id, 256, 254, 0x47, 0, 0, self.ports if version == of.Version.OF10 else ())
                    )
                    await self._writer.drain()
                    break
                await self._answer(message)
        self._task = asyncio.create_task(self._serve())

    async def _answer(self, message: of.Message) -> None:
        assert self.version is not None
        if isinstance(message, of.EchoRequest) and self.answer_echo:
            self._send(of.EchoReply(self.version, message.xid, message.data))
        elif isinstance(message, of.RoleRequest) and not message.reply:
            if message.role in (of.Role.MASTER, of.Role.SLAVE):
                if self.generation_id is not None and (message.generation_id - self.generation_id) % 2**64 >= 2**63:
                    self._send(of.Error(self.version, message.xid, of.OFPET_ROLE_REQUEST_FAILED, of.OFPRRFC_STALE))
                    return
                self.generation_id = message.generation_id
            if message.role != of.Role.NOCHANGE:
                self.role = OF_TO_ROLE[of.Role(message.role)]
            current = {value: key for key, value in OF_TO_ROLE.items()}[self.role]
            self._send(of.RoleRequest(self.version, message.xid, current, self.generation_id or 0, reply=True))
            if message.role == of.Role.NOCHANGE and self.master_races > 0:
                self.master_races -= 1
                self.generation_id = (self.generation_id or 0) + 1
        elif isinstance(message, of.NiciraRoleRequest) and not message.reply:
            self.role = NX_TO_ROLE.get(message.role, self.role)
            self._send(of.NiciraRoleRequest(self.version, message.xid, message.role, reply=True))
        assert self._writer is not None
        await self._writer.drain()

    async def _serve(self) -> None:
        try:
            while True:
                await self._answer(await self._read())
        except (asyncio.IncompleteReadError, ConnectionError, OSError, of.OpenFlowError):
            pass
        finally:
            self.closed.set()

    async def send(self, message: of.Message) -> None:
        self._send(message)
        assert self._writer is not None
        await self._writer.drain()

    def of_kind(self, kind: type) -> list[of.Message]:
        return [message for message in self.received if isinstance(message, kind)]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
        self.closed.set()
