"""The parsers of ``rfconsole xml new|validate|set|show``; the commands are in xml_cmd.py.

argparse and light constants only: see "Adding a command" in docs/architecture.md.
"""

from __future__ import annotations

import argparse

from rfconsole.cli import Commands, add_routeflow_rows_options, subcommands


def register(commands: Commands) -> None:
    commands.add(
        "xml",
        "write, check, change and show domain XML files (XML/)",
        _xml_arguments,
        description="Write, check, change and show libvirt domain XML files. Without -o, `xml new` "
        "writes XML/<name>.xml in the working folder (--workdir).",
    )


def _xml_arguments(xml: argparse.ArgumentParser) -> None:
    commands = subcommands(xml, dest="xml_command", metavar="SUBCOMMAND", required=True)
    commands.add("new", "write the domain XML of a new VM", _new_arguments, run="rfconsole.cli.xml_cmd:run_new")
    commands.add(
        "validate",
        "check domain XML files",
        _validate_arguments,
        run="rfconsole.cli.xml_cmd:run_validate",
        description="Check each FILE: safe, well-formed XML; rfconsole's rules for every modelled field; "
        "libvirt's own domain schema. Exit 0 when all are valid, 1 otherwise. Missing image or kernel "
        "files are warnings.",
    )
    commands.add("set", "change fields of an existing domain XML, keeping everything else", _set_arguments, run="rfconsole.cli.xml_cmd:run_set")
    commands.add(
        "show",
        "show the VM settings a domain XML holds",
        _show_arguments,
        run="rfconsole.cli.xml_cmd:run_show",
        description="Show the modelled settings of a domain XML.",
    )


def _new_arguments(new: argparse.ArgumentParser) -> None:
    import textwrap

    from rfconsole.model.fields import DOMAIN_FIELDS, INTERFACE_FIELDS
    from rfconsole.model.rftest2 import DATA_BRIDGE, MANAGEMENT_BRIDGE, RFTEST2_PRESETS

    new.description = textwrap.fill(
        "Write the domain XML of a new VM. With --preset, rftest2's values are the defaults "
        "(name, id, MACs, data NICs on dp0, image Images/h<N>.img) and any option overrides them. "
        "An image that does not exist yet is a warning, not an error.",
        width=88,
    )
    new.epilog = (
        "examples:\n"
        "  rfconsole xml new --hypervisor qemu --preset rfvmA\n"
        "  rfconsole xml new --hypervisor qemu --preset rfvmA --base debian12   (overlay Images/h1.qcow2)\n"
        "  rfconsole xml new --hypervisor qemu --preset rfvmE --base debian12 --routeflow-config rftest/config.csv\n"
        "  rfconsole xml new --hypervisor lxc --name web1 --image /srv/rootfs/web1 --memory 256\n"
        "  rfconsole xml new --hypervisor qemu --name tiny --kernel /boot/vmlinuz --initrd /boot/initrd.img --cmdline 'console=ttyS0'"
    )
    new.formatter_class = argparse.RawDescriptionHelpFormatter
    for binding in DOMAIN_FIELDS:  # the field table's options, in its order
        if binding.flag is not None:
            new.add_argument(binding.flag.name, metavar=binding.flag.metavar, help=binding.flag.help, required=binding.flag.required)
        if binding.key == "image":  # the other ways to give the VM its storage
            new.add_argument(
                "--base",
                metavar="NAME",
                help="give the VM a qcow2 overlay of this base (see `rfconsole image list`): Images/h<N>.qcow2 with --preset, "
                "else Images/<name>.qcow2; never over an existing file without --force (a backup is kept)",
            )
            new.add_argument("--no-image", action="store_true", help="no disk or root filesystem (direct kernel boot, or an lxc application container sharing the host's root)")
    new.add_argument(
        "--nic",
        action="append",
        default=[],
        metavar="SPEC",
        help="add a network interface (repeatable; after a preset's), KEY=VALUE pairs separated by commas: "
        + ", ".join(f"{binding.nic.name}={binding.nic.metavar} ({binding.nic.help})" for binding in INTERFACE_FIELDS if binding.nic is not None)
        + ", ovs (an Open vSwitch bridge); a bridge or a network is needed; e.g. --nic bridge=dp0,ovs,target=vm1.1,mac=02:01:01:01:01:01",
    )
    new.add_argument("--preset", metavar="P", help=f"rftest2 VM whose values are the defaults: {', '.join(RFTEST2_PRESETS)} (rfvmE, rfvmF: rftest2's naming carried on, 4 data NICs)")
    new.add_argument("--management-bridge", metavar="BR", default=MANAGEMENT_BRIDGE, help=f"with --preset: host bridge of eth0 (default {MANAGEMENT_BRIDGE}); 'none' leaves eth0 out")
    new.add_argument("--data-bridge", metavar="BR", default=DATA_BRIDGE, help=f"with --preset: Open vSwitch bridge of the data NICs (default {DATA_BRIDGE})")
    add_routeflow_rows_options(new, "the new VM")
    new.add_argument("-o", "--output", metavar="FILE", help="where to write (default XML/<name>.xml); '-' prints the XML")
    new.add_argument("--force", action="store_true", help="replace an existing file, XML or --base overlay (a backup is kept in .backup/)")


def _validate_arguments(validate: argparse.ArgumentParser) -> None:
    validate.add_argument("files", nargs="+", metavar="FILE", help="a domain XML file, or the name of a VM in XML/")


def _set_arguments(change: argparse.ArgumentParser) -> None:
    import textwrap

    from rfconsole.model.fields import (  # the binding table's keys
        CLEARABLE_KEYS,
        SET_KEYS,
    )

    change.description = textwrap.fill(
        "Change modelled fields of an existing domain XML. Everything else in the file "
        "(devices rfconsole does not model, attributes, order, comments) stays exactly as it was. "
        f"Keys: {', '.join(SET_KEYS)}. An empty value ({', '.join(k + '=' for k in CLEARABLE_KEYS[:3])}…) removes the setting. "
        "Without -o the file is changed in place (the old one is kept in .backup/).",
        width=88,
    )
    change.epilog = "example:\n  rfconsole xml set XML/rfvmA.xml memory=1024 vcpu=2 image=/srv/images/h1.qcow2"
    change.formatter_class = argparse.RawDescriptionHelpFormatter
    change.add_argument("file", metavar="FILE", help="a domain XML file, or the name of a VM in XML/")
    change.add_argument("changes", nargs="+", metavar="KEY=VALUE")
    change.add_argument("-o", "--output", metavar="OUT", help="write the result here instead of changing FILE")
    change.add_argument("--force", action="store_true", help="with -o: replace OUT if it exists")


def _show_arguments(show: argparse.ArgumentParser) -> None:
    show.add_argument("file", metavar="FILE", help="a domain XML file, or the name of a VM in XML/")
    show.add_argument("--json", action="store_true", help="print JSON instead of text")
