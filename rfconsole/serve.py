"""``rfconsole serve``: the console in a browser, one console process per browser session.

textual-serve (aiohttp) runs each session's console as a child process with Textual's web
driver and relays its screen over a WebSocket. textual-serve itself authenticates nobody and
accepts ``/ws`` from any Origin; this module puts a gate in front of every route:

- a random 256-bit token, printed once as a URL (``/auth?token=…``), is exchanged for an
  HttpOnly, SameSite=Strict session cookie and a redirect to ``/``;
- every route then requires that cookie, the expected ``Host``, and, where the browser sends
  one (always on the WebSocket), the exact expected ``Origin``: 403 otherwise;
- at most ``max_sessions`` console processes at once (the next is refused with a page that
  says so); a session's process is asked to quit when its socket closes and killed if it has
  not within ``QUIT_GRACE`` seconds.

Textual is imported by the child (``python -m rfconsole``), never here: this module sits beside
``rfconsole.tui``, not on it (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import secrets
import shlex
import signal
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from rfconsole.defaults import SERVE_MAX_SESSIONS
from rfconsole.errors import RfconsoleError, UsageError

COOKIE = "rfconsole_session"
QUIT_GRACE = 1.5  # seconds a console gets to quit after its socket closed, before it is killed


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    console_command: tuple[str, ...]  # the console to run per session (argv)
    max_sessions: int = SERVE_MAX_SESSIONS
    tls_cert: Path | None = None
    tls_key: Path | None = None
    public_url: str | None = None  # behind a reverse proxy: the URL browsers use
    insecure_behind_proxy: bool = False


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6) as a host and a port; UsageError in words."""
    host, colon, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise UsageError(f"--listen: expected HOST:PORT with a port 0–65535 (e.g. 127.0.0.1:8080), got {text!r}")
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_options(options: ServeOptions) -> None:
    """Refuse what would expose the console: a non-loopback address without TLS (or the explicit
    proxy flag with the proxy's public URL); half a TLS pair; a cap below one."""
    if options.max_sessions < 1:
        raise UsageError(f"--max-sessions: at least 1, got {options.max_sessions}")
    if (options.tls_cert is None) != (options.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together: give both or neither")
    if options.insecure_behind_proxy:
        if not options.public_url:
            raise UsageError("--insecure-behind-proxy needs --public-url URL: the https:// address the proxy serves")
    if options.public_url:
        parts = urlsplit(options.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
            raise UsageError(f"--public-url: expected http(s)://HOST[:PORT] with no path, got {options.public_url!r}")
        if not options.insecure_behind_proxy and options.tls_cert is None:
            raise UsageError("--public-url is for --insecure-behind-proxy (a reverse proxy doing TLS and authentication)")
    if not is_loopback(options.host) and options.tls_cert is None and not options.insecure_behind_proxy:
        raise UsageError(
            f"--listen {options.host}: not a loopback address, so the console would be reachable by others in clear "
            "text: give --tls-cert and --tls-key, or --insecure-behind-proxy --public-url URL behind a proxy doing TLS "
            "(docs/serve.md), or listen on 127.0.0.1 and use `ssh -L`"
        )


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "strerror", None) or getattr(error, "reason", None) or str(error)
        raise RfconsoleError(f"cannot use --tls-cert {cert} with --tls-key {key}: {reason}",
                             "both PEM files: the certificate (chain) and its private key") from None
    return context


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class _Session(AppService):
    """One console process; ended within QUIT_GRACE seconds of ``stop``."""

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(super().stop(), QUIT_GRACE)
        except (TimeoutError, ConnectionError):
            pass
        process = self._process
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()


class ConsoleServer(Server):
    """textual-serve's server behind rfconsole's gate (see the module's doc)."""

    def __init__(self, options: ServeOptions) -> None:
        # exec: the shell textual-serve starts becomes the console, so killing it kills the console
        super().__init__("exec " + shlex.join(options.console_command), host=options.host, port=options.port,
                         title="rfconsole", public_url=options.public_url)
        self.options = options
        self.token = secrets.token_urlsafe(32)  # 256 bits
        self.cookie_value = secrets.token_urlsafe(32)
        self.sessions: set[_Session] = set()

    @property
    def origin(self) -> str:
        return origin_of(self.public_url)

    @property
    def login_url(self) -> str:
        return f"{self.public_url}/auth?token={self.token}"

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.gate)
        app.router.add_get("/auth", self.handle_auth)
        return app

    @web.middleware
    async def gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        expected_host = urlsplit(self.public_url).netloc
        if request.host != expected_host:
            return forbidden(f"this server answers as {expected_host}, not {request.host}")
        origin = request.headers.get("Origin")
        if origin is not None and origin != self.origin:
            return forbidden("a page of another site may not drive this console")
        if request.path == "/ws" and origin is None:
            return forbidden("the console's socket needs the page's Origin")
        if request.path == "/auth":
            return await handler(request)
        if not hmac.compare_digest(request.cookies.get(COOKIE, ""), self.cookie_value):
            return forbidden("open the URL with the token that `rfconsole serve` printed")
        if request.path in ("/", "/ws") and self.full():
            return self.full_page()
        return await handler(request)

    async def handle_auth(self, request: web.Request) -> web.StreamResponse:
        if not hmac.compare_digest(request.query.get("token", ""), self.token):
            return forbidden("wrong or missing token: open the URL that `rfconsole serve` printed")
        response = web.HTTPSeeOther("/")
        response.set_cookie(COOKIE, self.cookie_value, httponly=True, samesite="Strict",
                            secure=self.public_url.startswith("https:"), path="/")
        return response

    def full(self) -> bool:
        return len(self.sessions) >= self.options.max_sessions

    def full_page(self) -> web.HTTPServiceUnavailable:
        count = self.options.max_sessions
        return web.HTTPServiceUnavailable(
            content_type="text/html",
            text=f"<!doctype html><title>rfconsole: all sessions in use</title><h1>All {count} session"
            f"{'' if count == 1 else 's'} in use</h1><p>rfconsole serve runs at most {count} console"
            f"{'' if count == 1 else 's'} at once (--max-sessions). Close one and reload this page.</p>",
        )

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if self.full():  # checked and the slot taken with no await between: racing handshakes cannot both pass
            raise self.full_page()
        websocket = web.WebSocketResponse(heartbeat=15)
        width = _size(request.query.get("width"), 80)
        height = _size(request.query.get("height"), 24)

        async def close() -> None:
            await websocket.close()

        session = _Session(self.command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                           close=close, download_manager=self.download_manager, debug=False)
        self.sessions.add(session)
        try:
            await websocket.prepare(request)
        except BaseException:  # not a WebSocket handshake after all (aiohttp answers 400): the slot is free again
            self.sessions.discard(session)
            raise
        try:
            await session.start(width, height)
            await self._process_messages(websocket, session)
        finally:
            await session.stop()
            self.sessions.discard(session)
            await websocket.close()
        return websocket

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve prints its banner here; rfconsole prints its URL once listening."""

    async def run(self) -> None:
        """Listen until SIGINT or SIGTERM; print the login URL once."""
        context = tls_context(self.options.tls_cert, self.options.tls_key) if self.options.tls_cert and self.options.tls_key else None
        runner = web.AppRunner(await self._make_app(), access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port, ssl_context=context)
            try:
                await site.start()
            except OSError as error:
                raise RfconsoleError(f"cannot listen on {self.host}:{self.port}: {error.strerror or error}",
                                     "choose another --listen HOST:PORT") from None
            if not self.options.public_url:
                port = runner.addresses[0][1]
                scheme = "https" if context else "http"
                host = f"[{self.host}]" if ":" in self.host else self.host
                self.public_url = f"{scheme}://{host}:{port}"
            print(f"rfconsole serve: open {self.login_url}", flush=True)
            print(f"  (printed only now; up to {self.options.max_sessions} sessions; Ctrl+C stops)", flush=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await stop.wait()
        finally:
            for session in list(self.sessions):
                await session.stop()
            await runner.cleanup()


def forbidden(reason: str) -> web.Response:
    return web.Response(status=403, text=f"403 Forbidden: {reason}\n")


def _size(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() and 0 < int(text) < 10000 else default


def console_command(workdir: Path, connect: str | None, demo: bool, read_only: bool = False) -> tuple[str, ...]:
    command = [sys.executable, "-m", "rfconsole", "--workdir", str(workdir)]
    if connect:
        command += ["--connect", connect]
    elif demo:
        command.append("--demo")
    if read_only:
        command.append("--read-only")
    return tuple(command)


def serve(options: ServeOptions) -> int:
    check_options(options)
    asyncio.run(ConsoleServer(options).run())
    return 0
