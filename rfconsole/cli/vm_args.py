"""The parsers of ``rfconsole up|down|redeploy|define|undefine|start|shutdown|destroy|suspend|resume|reboot|power-cycle|reset|status``;
the commands are in vm_cmd.py.

argparse and light constants only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse
from functools import partial

from rfconsole.cli import Commands, seconds
from rfconsole.defaults import SHUTDOWN_TIMEOUT, START_TIMEOUT

# command -> (summary, options)
LIFECYCLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "up": ("define from XML/ where needed, start, wait until running (idempotent)", ("timeout", "host")),
    "down": ("graceful shutdown; destroy after --timeout (idempotent)", ("timeout", "no_destroy", "force", "host")),
    "redeploy": ("destroy, undefine, define from XML/, start: one action per VM", ("timeout", "force", "host")),
    "define": ("define from XML/<VM>.xml (libvirt validates it)", ("force", "host")),
    "undefine": ("libvirt forgets the domain (the file in XML/ stays)", ("force", "host")),
    "start": ("start defined domains and wait until running", ("timeout", "no_wait", "host")),
    "shutdown": ("ask the guests to shut down (ACPI); with --timeout, wait for it", ("timeout_optional", "host")),
    "destroy": ("power off at once", ("force", "host")),
    "suspend": ("pause running domains", ("host",)),
    "resume": ("resume paused domains", ("host",)),
    "reboot": ("ask the guests to reboot", ("host",)),
    "power-cycle": ("hard reset of running domains, the reset button (the guests are not asked)", ("force", "host")),
    "reset": ("back to a clean state, then running: a snapshot, else a fresh overlay of the base (what the VMs wrote is lost)",
              ("timeout", "force", "host", "snapshot")),
}


def register(commands: Commands) -> None:
    for command, (summary, options) in LIFECYCLE.items():
        commands.add(command, summary, partial(_lifecycle_arguments, command, options), run="rfconsole.cli.vm_cmd:run_lifecycle",
                     operation=command.replace("-", "_"))  # the Fleet method: power-cycle -> power_cycle
    commands.add(
        "status",
        "every domain of every host: state, vCPUs, memory, CPU %%",
        _status_arguments,
        run="rfconsole.cli.vm_cmd:run_status",
        description="Every domain of every host: name, host, hypervisor, state, vCPUs, memory (MiB), CPU %.",
    )


def _lifecycle_arguments(command: str, options: tuple[str, ...], parser: argparse.ArgumentParser) -> None:
    from rfconsole.model.rftest2 import RFTEST2_VMS

    parser.add_argument("vms", nargs="*", metavar="VM", help=f"VM names (default: {' '.join(RFTEST2_VMS)})")
    if "timeout" in options:
        default = SHUTDOWN_TIMEOUT if command == "down" else START_TIMEOUT
        what = "for a graceful shutdown before destroying" if command == "down" else "for each VM to be running"
        parser.add_argument("--timeout", type=seconds(0, 86400), default=default, metavar="S", help=f"seconds to wait {what} (default {default:g})")
    if "timeout_optional" in options:
        parser.add_argument("--timeout", type=seconds(0, 86400), default=None, metavar="S", help="wait up to S seconds for each guest to be shut off")
    if "no_destroy" in options:
        parser.add_argument("--no-destroy", action="store_true", help="never destroy: a guest still running after --timeout is an error")
    if "no_wait" in options:
        parser.add_argument("--no-wait", action="store_true", help="return once libvirt has started them, without waiting")
    if "force" in options:
        parser.add_argument("--force", action="store_true", help="also act on domains without rfconsole's ownership mark")
    if "snapshot" in options:
        parser.add_argument("--snapshot", metavar="NAME", help="revert to this snapshot (default: each VM's current one; "
                            "a VM without any gets a fresh overlay of its base)")
    if "host" in options:
        parser.add_argument("--host", metavar="NAME", help="the configured host to act on (default: each VM's placement)")


def _status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="a JSON list of objects, one per domain")
    parser.add_argument("--watch", action="store_true", help="refresh on every libvirt event and every stats interval; Ctrl-C quits")


