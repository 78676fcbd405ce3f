"""``rfconsole serve``: build the options from the command line and run rfconsole.serve."""

from __future__ import annotations

import argparse

from rfconsole.serve import ServeOptions, console_command, parse_listen, serve


def run_serve(args: argparse.Namespace) -> int:
    host, port = parse_listen(args.listen)
    options = ServeOptions(
        host=host, port=port, max_sessions=args.max_sessions,
        console_command=console_command(args.workdir, args.connect, args.demo, read_only=args.read_only or args.serve_read_only),
        tls_cert=args.tls_cert, tls_key=args.tls_key,
        public_url=args.public_url, insecure_behind_proxy=args.insecure_behind_proxy,
    )
    return serve(options)
