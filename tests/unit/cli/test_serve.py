"""`rfconsole serve`'s bad input: one line in words, exit 1 or 2, nothing served (issue 19)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from rfconsole.cli import main


def serve_error(capsys, tmp_path: Path, *options: str) -> tuple[int, str]:
    code = main(["--demo", "--workdir", str(tmp_path), "serve", *options])
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize(("options", "words"), [
    (("--listen", "0.0.0.0:8080"), "not a loopback address"),
    (("--listen", "10.1.2.3:8080", "--insecure-behind-proxy"), "needs --public-url"),
    (("--listen", "nonsense"), "expected HOST:PORT"),
    (("--listen", "127.0.0.1:70000"), "expected HOST:PORT"),
    (("--max-sessions", "0"), "at least 1"),
    (("--tls-cert", "/nonexistent.pem"), "go together"),
    (("--listen", "0.0.0.0:0", "--insecure-behind-proxy", "--public-url", "https://lab.example/x"), "no path"),
])
def test_refused_options_are_one_line(capsys, tmp_path, options, words):
    code, err = serve_error(capsys, tmp_path, *options)
    assert code == 2 and words in err and "Traceback" not in err
    assert err.startswith("rfconsole: error:")


def test_a_port_in_use_is_one_line(capsys, tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        code, err = serve_error(capsys, tmp_path, "--listen", f"127.0.0.1:{port}")
    finally:
        taken.close()
    assert code == 1 and f"cannot listen on 127.0.0.1:{port}" in err and "Traceback" not in err


def test_a_bad_certificate_is_one_line(capsys, tmp_path):
    (tmp_path / "cert.pem").write_text("not a certificate\n")
    (tmp_path / "key.pem").write_text("not a key\n")
    code, err = serve_error(capsys, tmp_path, "--listen", "0.0.0.0:0", "--tls-cert", str(tmp_path / "cert.pem"),
                            "--tls-key", str(tmp_path / "key.pem"))
    assert code == 1 and "cannot use --tls-cert" in err and "Traceback" not in err


def test_two_handshakes_at_once_never_pass_the_cap(tmp_path):
    """The cap holds against handshakes racing each other: with --max-sessions 1, of three sockets
    opened at the same instant one is a console and the others get the 503 page."""
    import asyncio

    import aiohttp

    from bench._served import serve

    (tmp_path / "XML").mkdir()
    served = serve(tmp_path, "--max-sessions", "1")

    async def race() -> list[int]:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:  # unsafe: an IP host
            async with session.get(served.login) as response:
                assert response.status == 200  # the token became the cookie

            async def handshake() -> int:
                try:
                    socket = await session.ws_connect(served.base + "/ws?width=80&height=24", headers={"Origin": served.base})
                except aiohttp.WSServerHandshakeError as refused:
                    return refused.status
                await asyncio.sleep(1.0)  # held open while the others try
                await socket.close()
                return 101

            return sorted(await asyncio.gather(*(handshake() for _ in range(8))))

    try:
        assert asyncio.run(race()) == [101] + [503] * 7
    finally:
        served.process.terminate()
        served.process.wait(10)
