"""Issue 21: the table's poll reads every domain of a QEMU host in one getAllDomainStats call,
and says what ``virsh dominfo`` (one call per domain) says; LXC, which has no such call, is read
per domain."""

from __future__ import annotations

import pytest

from rfconsole.virt.events import DomainState

from .conftest import LXC_URI, QEMU_URI, qemu_spec, save_spec, virsh

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_libvirt")]


def dominfo(name: str) -> dict[str, str]:
    lines = virsh(QEMU_URI, "dominfo", name).splitlines()
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in lines)}


def test_one_call_reads_what_dominfo_says_of_each_domain(workdir, guest, open_fleet):
    save_spec(workdir, qemu_spec("rfit-poll-off", guest, memory=192, vcpu=2))
    save_spec(workdir, qemu_spec("rfit-poll-on", guest))
    fleet = open_fleet(workdir, QEMU_URI)
    fleet.define("rfit-poll-off")
    fleet.up("rfit-poll-on")
    host = fleet.host()

    statuses = {status.name: status for status in host.statuses() if status.name.startswith("rfit-poll")}
    assert host.bulk_statuses is True
    assert statuses["rfit-poll-off"].state is DomainState.SHUTOFF
    assert statuses["rfit-poll-on"].state is DomainState.RUNNING
    for name, status in statuses.items():
        said = dominfo(name)
        assert status.vcpus == int(said["CPU(s)"]), name
        memory = said["Used memory"] if status.state.is_active else said["Max memory"]
        assert status.memory_mib == int(memory.split()[0]) // 1024, (name, said)
        assert status.owned


def test_lxc_has_no_bulk_call_and_is_read_per_domain(workdir, open_fleet):
    host = open_fleet(workdir, LXC_URI).host()
    host.statuses()
    assert host.bulk_statuses is False
