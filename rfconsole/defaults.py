"""Defaults that the command line's help shows as well as the layers that use them.

Kept here, standard library only, so that building the argument parser (``rfconsole --help``)
imports nothing heavy; the layers that use these values import them from here.
"""

START_TIMEOUT = 30.0  # seconds to wait for a started VM to be running
SHUTDOWN_TIMEOUT = 30.0  # seconds `down` waits for a graceful shutdown before destroying
DEFAULT_LISTEN = ("127.0.0.1", 6653)  # where on-demand boot listens for OpenFlow switches (OpenFlow's port)

# `rfconsole serve` (rfconsole/serve.py): loopback by default; at most this many console processes
SERVE_LISTEN = "127.0.0.1:8080"
SERVE_MAX_SESSIONS = 4
