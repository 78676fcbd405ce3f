"""``rfconsole details VM [--json]`` (parser in details_args.py): renders ``Fleet.details``
(rfconsole/virt/details.py), the same facts and words as the console's details view."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TextIO

from rfconsole.cli import EXIT_OK
from rfconsole.cli.vm_cmd import open_fleet, print_table
from rfconsole.virt.details import VmDetails, event_words

NIC_COLUMNS = ("ETH", "MAC", "PLUGGED INTO", "HOST DEVICE", "OVS PORT", "SWITCH:PORT", "GUEST ADDRESSES")
DISK_COLUMNS = ("TARGET", "DEVICE", "SOURCE", "BUS")
SNAPSHOT_COLUMNS = ("  NAME", "TAKEN (UTC)", "STATE THEN", "MEMORY")


def run_details(args: argparse.Namespace) -> int:
    fleet = open_fleet(args)
    try:
        details = fleet.details(args.vm, host=args.host)
    finally:
        fleet.close()
    if args.json:
        json.dump(details.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        write_details(details, sys.stdout)
    return EXIT_OK


def write_details(details: VmDetails, out: TextIO) -> None:
    print_table([
        ("Name", details.name),
        ("State", details.state_words),
        ("Host", f"{details.host} ({details.uri})"),
        ("Hypervisor", details.hypervisor or "?"),
        ("vCPUs", details.vcpus_words),
        ("Memory", details.memory_words),
    ], out)

    print("\nNetwork interfaces", file=out)
    if details.nics:
        print_table([NIC_COLUMNS] + [
            (nic.name, nic.mac or "?", nic.plugged_into, nic.target_dev or "—", nic.ovs_port or "—",
             nic.switch_words or "—", ", ".join(map(str, nic.addresses)) or "—")
            for nic in details.nics
        ], out)
    else:
        print("  none", file=out)
    print(f"  switch ports: {details.switch_note}", file=out)
    print(f"  addresses: {details.addresses_note}", file=out)

    print("\nDisks and filesystems", file=out)
    if details.disks:
        print_table([DISK_COLUMNS] + [
            (disk.target or "—", disk.device or "—", disk.source or "—", disk.bus or "—") for disk in details.disks
        ], out)
    else:
        print("  none (direct kernel boot, or none declared)", file=out)

    print("\nSnapshots", file=out)
    if details.snapshots:
        print_table([SNAPSHOT_COLUMNS] + [
            (("* " if info.current else "  ") + info.name, info.created.strftime("%Y-%m-%d %H:%M:%S") if info.created else "?",
             info.state, "yes" if info.memory else "no")
            for info in details.snapshots
        ], out)
    else:
        print(f"  {details.snapshots_note or 'none'}", file=out)

    print("\nXML/ file", file=out)
    print(f"  {details.xml_file or 'none'}" + (f": {details.xml_words}" if details.xml_agrees is not None else ""), file=out)
    print(f"  {details.xml_note}", file=out)

    print("\nLifecycle events", file=out)
    if details.events:
        print_table([(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event.time)), event_words(event)) for event in details.events], out)
    else:
        print("  none seen since this command connected (libvirt keeps no history; the console's details view logs them as they come)", file=out)
