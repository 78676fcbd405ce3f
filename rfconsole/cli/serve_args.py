"""The parser of ``rfconsole serve``; the command is in serve_cmd.py.

argparse and light constants only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse

from rfconsole.cli import Commands
from rfconsole.defaults import SERVE_LISTEN, SERVE_MAX_SESSIONS


def register(commands: Commands) -> None:
    commands.add(
        "serve",
        "the console in a browser: one console per browser session, behind a token (docs/serve.md)",
        _arguments,
        run="rfconsole.cli.serve_cmd:run_serve",
        description="Serve the console over HTTP(S) and a WebSocket: each browser session runs its own console "
        "process. Prints a URL with a random token once; the token becomes an HttpOnly cookie, and every "
        "request needs it and this server's own Origin. Listening beyond loopback needs TLS or a reverse proxy "
        "(docs/serve.md).",
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    from pathlib import Path

    parser.add_argument("--listen", metavar="HOST:PORT", default=SERVE_LISTEN,
                        help=f"address to listen on; default {SERVE_LISTEN} (port 0: any free port)")
    parser.add_argument("--max-sessions", metavar="N", type=int, default=SERVE_MAX_SESSIONS,
                        help=f"at most N console processes at once; default {SERVE_MAX_SESSIONS}")
    # its own dest: a subcommand's default would overwrite `rfconsole --read-only serve`'s
    parser.add_argument("--read-only", dest="serve_read_only", action="store_true",
                        help="every session sees and changes nothing: libvirt's read-only connections, no changing key")
    parser.add_argument("--tls-cert", metavar="FILE", type=Path, help="PEM certificate (chain): serve https")
    parser.add_argument("--tls-key", metavar="FILE", type=Path, help="PEM private key of --tls-cert")
    parser.add_argument("--insecure-behind-proxy", action="store_true",
                        help="plain HTTP on a non-loopback address, for a reverse proxy doing TLS (needs --public-url)")
    parser.add_argument("--public-url", metavar="URL", help="with --insecure-behind-proxy: the https://HOST[:PORT] browsers use")
