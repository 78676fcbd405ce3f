"""Which hypervisors a host runs comes from libvirt's capabilities (and for KVM its domain
capabilities); an XML for one the host lacks is refused before anything is touched."""

from __future__ import annotations

import pytest

from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import preset_spec
from rfconsole.model.spec import Hypervisor
from rfconsole.virt.capabilities import parse_capabilities
from rfconsole.virt.errors import HypervisorUnavailable, MissingFiles

QEMU_HOST_CAPS = """<capabilities><host><cpu><arch>x86_64</arch></cpu></host>
  <guest><os_type>hvm</os_type><arch name='i686'><emulator>/usr/bin/qemu-system-i386</emulator>
    <domain type='qemu'/><domain type='kvm'/></arch></guest>
  <guest><os_type>hvm</os_type><arch name='x86_64'><emulator>/usr/bin/qemu-system-x86_64</emulator>
    <domain type='qemu'/><domain type='kvm'/></arch></guest>
</capabilities>"""
LXC_HOST_CAPS = """<capabilities><host/>
  <guest><os_type>exe</os_type><arch name='x86_64'><emulator>/usr/lib/libvirt/libvirt_lxc</emulator>
    <domain type='lxc'/></arch></guest>
</capabilities>"""


def test_the_demo_host_runs_the_test_driver_only(demo):
    host = demo.host("demo")
    assert host.capabilities() == {Hypervisor.TEST}
    assert "offers no kvm guests" in host.unavailable_reason(Hypervisor.KVM)
    assert host.unavailable_reason(Hypervisor.TEST) == ""


def test_kvm_counts_only_when_its_domain_capabilities_work():
    refused = parse_capabilities("local", "QEMU", QEMU_HOST_CAPS, lambda arch: "KVM is not supported on this host")
    assert refused.hypervisors == {Hypervisor.QEMU}
    assert "KVM is not supported on this host" in refused.reason(Hypervisor.KVM)
    assert "lxc://" in refused.reason(Hypervisor.LXC)

    working = parse_capabilities("local", "QEMU", QEMU_HOST_CAPS, lambda arch: None if arch == "x86_64" else "no i686 KVM")
    assert working.hypervisors == {Hypervisor.QEMU, Hypervisor.KVM}
    assert working.archs[Hypervisor.KVM] == frozenset({"x86_64"})
    assert working.archs[Hypervisor.QEMU] == frozenset({"i686", "x86_64"})


def test_each_hypervisors_archs_come_with_the_machines_own_first():
    caps = parse_capabilities("local", "QEMU", QEMU_HOST_CAPS.replace("x86_64</arch></cpu>", "i686</arch></cpu>"), lambda arch: None)
    assert caps.host_arch == "i686"
    assert caps.archs_for(Hypervisor.QEMU) == ["i686", "x86_64"]
    caps = parse_capabilities("local", "QEMU", QEMU_HOST_CAPS, lambda arch: None)
    assert caps.host_arch == "x86_64"
    assert caps.archs_for(Hypervisor.QEMU) == ["x86_64", "i686"]  # the wizard preselects the first
    assert caps.archs_for(Hypervisor.LXC) == []


def test_the_demo_host_offers_i686_test_guests_only(demo):
    assert demo.host("demo").host_capabilities().archs_for(Hypervisor.TEST) == ["i686"]


def test_lxc_hosts_offer_exe_guests():
    caps = parse_capabilities("lxc", "LXC", LXC_HOST_CAPS, lambda arch: None)
    assert caps.hypervisors == {Hypervisor.LXC}
    assert "runs lxc" in caps.reason(Hypervisor.QEMU)


def test_an_xml_for_a_missing_hypervisor_is_refused_before_anything_is_touched(demo, recorder, store):
    document = DomainDocument.from_spec(preset_spec("rfvmA", Hypervisor.QEMU, store.workdir))
    before = [(s.name, s.state) for s in demo.statuses()]
    for attempt in (demo.define, demo.redeploy):
        with pytest.raises(HypervisorUnavailable) as error:
            attempt(document)
        assert "cannot run rfvmA (qemu) on host demo" in error.value.message
    assert [(s.name, s.state) for s in demo.statuses()] == before
    assert recorder.events == []


def test_missing_image_is_refused_for_hypervisors_that_run_it(store, demo, tmp_path):
    qemu = DomainDocument.from_spec(preset_spec("rfvmA", Hypervisor.QEMU, store.workdir))
    with pytest.raises(MissingFiles) as error:
        demo.check_files(qemu)
    assert "h1.img" in error.value.message and "Images/" in error.value.hint
    (store.workdir.images_dir / "h1.img").write_bytes(b"\0" * 512)
    demo.check_files(qemu)  # present now
    test_vm = DomainDocument.from_spec(preset_spec("rfvmB", Hypervisor.TEST, store.workdir))
    demo.check_files(test_vm, starting=False)  # the test driver runs nothing: defined without its files
    with pytest.raises(MissingFiles):
        demo.check_files(test_vm)  # but not started without them, as a real host would not
