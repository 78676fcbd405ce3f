"""A real guest's address as libvirt reports it: a QEMU guest (the tiny guest, its virtio NIC
driven by the modules its initramfs loads) and an LXC container (the tiny guest's rootfs), each
with a NIC on a libvirt network whose dnsmasq serves DHCP (``dhcp_network``). Before DHCP the details
show no address; ``udhcpc`` typed on the guest's console takes a lease; then `rfconsole
details --json` and the console's details view (``i``) show the address the guest holds (``ip
addr`` in the guest) and libvirt's lease says (``virsh domifaddr``), from the lease source."""

from __future__ import annotations

import argparse
import json
import re

import pytest

from rfconsole.model.spec import DomainSpec, Hypervisor, Interface
from rfconsole.tui.app import RfconsoleApp
from rfconsole.tui.launch import build_context
from rfconsole.tui.screens.domains import DomainTable
from rfconsole.tui.screens.vmdetails import VmDetailsScreen
from tests.tui.conftest import wait_until as wait_in_app

from .conftest import (
    LXC_URI,
    QEMU_URI,
    qemu_spec,
    run_cli,
    save_spec,
    virsh,
    wait_until,
)
from .test_console import Screen, echo_answered

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_libvirt")]

MAC = "52:54:00:0b:0b:01"
LEASE = re.compile(rb"lease of (\d+\.\d+\.\d+\.\d+) obtained")


def details_json(workdir, uri: str, name: str) -> dict:
    result = run_cli("--workdir", str(workdir.root), "--connect", uri, "details", name, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def lease_addresses(uri: str, name: str) -> list[str]:
    """virsh domifaddr --source lease: the addresses libvirt's leases give the guest."""
    return re.findall(r"(\d+\.\d+\.\d+\.\d+)/\d+", virsh(uri, "domifaddr", name, "--source", "lease"))


@pytest.mark.parametrize("hypervisor", [Hypervisor.QEMU, Hypervisor.LXC])
async def test_guest_gets_an_address_and_details_show_it(workdir, guest, open_fleet, dhcp_network, hypervisor):
    name = f"rfit-ip-{hypervisor.value}"
    if hypervisor is Hypervisor.QEMU:
        uri = QEMU_URI
        spec = qemu_spec(name, guest, interfaces=(Interface(network=dhcp_network.name, mac=MAC, model="virtio"),))
    else:
        uri = LXC_URI
        nic = Interface(network=dhcp_network.name, mac=MAC)
        spec = DomainSpec(hypervisor=hypervisor, name=name, memory=64, image=guest.lxc_rootfs, init="/init", interfaces=(nic,))
    save_spec(workdir, spec)
    fleet = open_fleet(workdir, uri)
    fleet.up(name)

    before = details_json(workdir, uri, name)
    (eth0,) = before["nics"]
    assert (eth0["mac"], eth0["type"], eth0["source"]) == (MAC, "network", dhcp_network.name)
    assert not [a for a in eth0["addresses"] if dhcp_network.holds(a["address"])]  # no lease yet

    screen = Screen()
    console = fleet.console(name, on_output=screen.write)
    try:
        echo_answered(console, screen)  # the shell is up
        start = len(screen.output)
        console.send(b"ip link set eth0 up && udhcpc -i eth0 -q -n -t 10 && ip -4 -o addr show eth0\n")
        screen.wait(lambda: LEASE.search(screen.output[start:]) is not None, "udhcpc's lease")
        address = LEASE.search(screen.output[start:]).group(1).decode()
        screen.wait_output(f"inet {address}/24".encode(), start)  # the guest holds it (the hook script)
    finally:
        console.close()
    assert dhcp_network.holds(address)
    # libvirt learns the lease when dnsmasq's hook (libvirt_leaseshelper) has run: wait for it
    wait_until(lambda: address in lease_addresses(uri, name), 30, f"libvirt's lease of {address}")

    after = details_json(workdir, uri, name)
    (eth0,) = after["nics"]
    found = {a["address"]: a for a in eth0["addresses"]}
    assert address in found, eth0
    assert found[address]["prefix"] == 24 and "lease" in found[address]["sources"]
    assert "lease" in after["addresses_note"]

    # The console's details view shows it too, on the same host.
    context = build_context(argparse.Namespace(workdir=workdir.root, demo=False, connect=uri))
    app = RfconsoleApp(context, poll_seconds=0)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_in_app(pilot, lambda: _shown(app) is not None and name in _shown(app), "the guest's row", timeout=20)
            await pilot.press("slash", *name, "enter")
            await wait_in_app(pilot, lambda: _shown(app) == [name], "the filter to leave the guest", timeout=10)
            await pilot.press("i")
            await wait_in_app(pilot, lambda: isinstance(app.screen, VmDetailsScreen) and app.screen.details is not None,
                              "the details", timeout=20)
            text = _rendered(app.screen)
            assert f"{address}/24 (lease" in text and MAC in text and f"network {dhcp_network.name}" in text
    finally:
        context.fleet.close()


def _shown(app) -> list[str] | None:
    tables = app.screen.query(DomainTable)
    if not tables:
        return None
    table = tables.first()
    return [str(table.get_row_at(index)[1]) for index in range(table.row_count)]


def _rendered(screen) -> str:
    from rich.console import Console

    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    for renderable in screen.shown.values():
        console.print(renderable)
    return console.export_text()
