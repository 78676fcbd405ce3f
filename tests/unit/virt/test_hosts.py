"""Several hosts at once: placement, search by name, hypervisor routing; an unreachable host is
an error with libvirt's message and a hint, never a crash, and the other hosts carry on."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rfconsole.config import Config
from rfconsole.model.spec import Hypervisor
from rfconsole.virt.demo import demo_uri
from rfconsole.virt.errors import DomainNotFound, HostUnavailable
from rfconsole.virt.events import DomainState
from rfconsole.virt.fleet import Fleet
from rfconsole.virt.host import Host, uri_is_local
from tests.unit.virt.conftest import FOREIGN_NODE, save_preset

UNREACHABLE = "qemu+tcp://127.0.0.1:1/system"  # nothing listens on port 1: refused at once


@pytest.fixture
def two_hosts(tmp_path: Path, store) -> Fleet:
    other = tmp_path / "other_node.xml"
    other.write_text(FOREIGN_NODE)
    config = Config(
        found=True,
        hosts={"one": demo_uri(), "two": f"test://{other}"},
        default_host="one",
        placement={"rfvmZ": "two"},
        hypervisors={Hypervisor.TEST: "one"},
    )
    fleet = Fleet(config, store)
    yield fleet
    fleet.close()


def test_domains_are_found_on_whichever_host_has_them(two_hosts):
    assert two_hosts.host_names() == ["one", "two"]
    assert {(s.name, s.host) for s in two_hosts.statuses()} >= {("rfvmA", "one"), ("test", "two")}
    assert two_hosts.status("test").host == "two"
    assert two_hosts.status("rfvmA").host == "one"


def test_placement_decides_where_a_new_vm_is_defined(two_hosts, store):
    save_preset(store, "rfvmA", name="rfvmZ", id=26)
    assert two_hosts.up("rfvmZ").words == "defined, started, running on host two"
    assert two_hosts.status("rfvmZ").host == "two"
    assert not two_hosts.host("one").exists("rfvmZ")


def test_unknown_host_lists_the_known_ones(two_hosts):
    with pytest.raises(Exception) as error:
        two_hosts.start("rfvmA", host="three")
    assert "no host named 'three': the hosts are one, two" in str(error.value)


def test_an_unreachable_host_is_reported_and_the_others_carry_on(tmp_path, store):
    config = Config(found=True, hosts={"demo": demo_uri(), "gone": UNREACHABLE}, default_host="demo")
    fleet = Fleet(config, store)
    try:
        statuses, problems = fleet.collect_statuses()
        assert {s.name for s in statuses} == {"rfvmA", "rfvmB", "rfvmC", "rfvmD"}
        assert len(problems) == 1
        problem = problems[0]
        assert isinstance(problem, HostUnavailable)
        assert (problem.host, problem.kind) == ("gone", "HostUnavailable")  # typed: nobody reads the words
        assert problem.message.startswith(f"cannot connect to host gone ({UNREACHABLE}): ")
        assert problem.libvirt_message and "sudo systemctl start libvirtd libvirtd-tcp.socket" in problem.hint
        assert "scripts/" not in problem.hint  # a developer's script is never a user's hint
        states = {state.name: state for state in fleet.host_states()}
        assert states["gone"].down_since is not None and states["gone"].down_since <= time.time()
        states = {state.name: state for state in fleet.host_states()}
        assert states["demo"].connected and not states["gone"].connected and states["gone"].problem
        assert fleet.up("rfvmA").words == "started, running on host demo"  # the reachable host still works
    finally:
        fleet.close()


def test_subscribers_survive_an_unreachable_host(store):
    fleet = Fleet(Config(found=True, hosts={"gone": UNREACHABLE}, default_host="gone"), store)
    received = []
    fleet.subscribe(received.append)
    try:
        assert fleet.statuses() == []  # the unreachable host is left out, not raised
        assert not fleet.host_states()[0].connected
        # with subscribers, the host now retries in the background (the backoff policy is tested on its own)
        with pytest.raises(HostUnavailable, match="reconnecting"):
            fleet.host().connect()
    finally:
        fleet.close()
    assert received == []


@pytest.mark.parametrize(
    ("uri", "local"),
    [
        ("qemu:///system", True),
        ("lxc:///system", True),
        ("test:///default", True),
        ("qemu+ssh://lab2/system", False),
        ("qemu+tls://10.0.0.7/system", False),
        ("qemu+tcp://127.0.0.1:16509/system", True),
        ("qemu+tcp://127.0.0.1/system", True),
        ("qemu+ssh://localhost/system", True),
        ("qemu+ssh://root@[::1]:22/system", True),
    ],
)
def test_a_host_is_local_when_its_uri_reaches_this_machine(uri, local):
    """One rule (host.uri_is_local): no host part, or a loopback one. Such a host's files are this
    machine's (reset makes overlays, image base asks it for writers) and its daemon reads this
    machine's schema files (redeploy's own schema check stands for libvirt's)."""
    assert uri_is_local(uri) is local
    assert Host("h", uri).is_local is local


def test_a_hosts_domains_are_known_by_name_with_their_state_and_id(demo):
    host = demo.host()
    assert host.exists("rfvmA") and not host.exists("rfvmZ")
    assert host.state("rfvmA") is DomainState.SHUTOFF and host.state("rfvmZ") is None
    assert host.domain_id("rfvmA") is None  # libvirt numbers running domains only
    demo.start("rfvmA")
    assert host.state("rfvmA") is DomainState.RUNNING
    first = host.domain_id("rfvmA")
    assert first is not None and first > 0
    demo.destroy("rfvmA")
    demo.start("rfvmA")
    assert host.domain_id("rfvmA") not in (None, first)  # a restarted domain has a new id: the console tells a restart by it
    with pytest.raises(DomainNotFound):
        host.domain_id("rfvmZ")


def test_the_console_finds_each_unreachable_hosts_error_by_its_host_not_its_words(store):
    """Two unreachable hosts, one's name the start of the other's ("lab (old)" listed first, then
    "lab"): each gets its own error, matched by VirtError.host (matching "host lab " in the words
    gave "lab" the error of "lab (old)")."""
    from types import SimpleNamespace

    from rfconsole.tui.fleetview import statuses_and_problems

    config = Config(found=True, hosts={"demo": demo_uri(), "lab (old)": "qemu+tcp://127.0.0.1:2/system", "lab": UNREACHABLE}, default_host="demo")
    fleet = Fleet(config, store)
    try:
        _, problems = statuses_and_problems(SimpleNamespace(fleet=fleet))
        assert set(problems) == {"lab", "lab (old)"}
        assert problems["lab"].host == "lab" and "127.0.0.1:1/" in problems["lab"].message
        assert problems["lab (old)"].host == "lab (old)" and "127.0.0.1:2/" in problems["lab (old)"].message
    finally:
        fleet.close()


def test_a_name_libvirt_cannot_encode_names_no_domain(demo):
    # an undecodable command-line byte arrives as a lone surrogate; libvirt's binding cannot encode it
    assert not demo.host("demo").exists("\udcff")
    assert not demo.has_domain("\udcff")
