"""DomainSpec: the rules of every field, and refusals in plain words."""

from pathlib import Path

import pytest

from rfconsole.errors import RfconsoleError
from rfconsole.model import (
    Arch,
    DomainSpec,
    Hypervisor,
    ImageKind,
    Interface,
    InvalidSpec,
    KernelBoot,
    OSType,
    missing_files,
)


def problems_of(**settings):
    with pytest.raises(InvalidSpec) as caught:
        DomainSpec(**settings)
    return {problem.field: problem for problem in caught.value.problems}


def test_defaults_follow_the_hypervisor():
    vm = DomainSpec(hypervisor="kvm", name="rfvmA", image="/srv/h1.img")
    assert vm.os_type is OSType.HVM and vm.arch is Arch.X86_64 and vm.init is None
    assert vm.image_kind is ImageKind.FILE and vm.vcpu == 1 and vm.memory == 512
    container = DomainSpec(hypervisor="lxc", name="c")
    assert container.os_type is OSType.EXE and container.init == "/sbin/init" and container.image is None


def test_hypervisor_is_read_leniently():
    assert DomainSpec(hypervisor="KVM", name="a", image="/a.img").hypervisor is Hypervisor.KVM


def test_lxc_folder_image_is_a_root_filesystem(tmp_path):
    assert DomainSpec(hypervisor="lxc", name="c", image=tmp_path).image_kind is ImageKind.FOLDER
    assert DomainSpec(hypervisor="lxc", name="c", image=tmp_path / "root.img").image_kind is ImageKind.FILE


@pytest.mark.parametrize(
    ("settings", "field", "words"),
    [
        ({"hypervisor": "xen"}, "hypervisor", "kvm, qemu, lxc or test"),
        ({"name": "a b"}, "name", "letters, digits"),
        ({"name": "x" * 65}, "name", "at most 64"),
        ({"name": "-x"}, "name", "starting with a letter or digit"),
        ({"id": 0}, "id", "from 1"),
        ({"id": "seven"}, "id", "whole number"),
        ({"vcpu": 0}, "vcpu", "from 1"),
        ({"memory": "lots"}, "memory", "whole number"),
        ({"id": "9" * 25}, "id", "from 1 to 2147483647"),  # too large: the range, not "whole number"
        ({"vcpu": "9" * 25}, "vcpu", "from 1 to 4096"),
        ({"memory": "9" * 25}, "memory", "from 1 to 16777216"),
        ({"memory": "9" * 60}, "memory", "from 1 to 16777216"),  # more digits than any limit has
        ({"arch": "arm"}, "arch", "one libvirt knows"),
        ({"image": "Images/h1.img"}, "image", "absolute path"),
        ({"os_type": "exe"}, "os_type", "needs OS type hvm"),
        ({"os_type": "linux"}, "os_type", "Xen"),
        ({"init": "/sbin/init"}, "init", "LXC"),
        ({"unknown": 1}, "unknown", "not a setting"),
    ],
)
def test_each_refusal_names_field_value_and_rule(settings, field, words):
    base = {"hypervisor": "kvm", "name": "vm", "image": "/srv/h1.img"}
    problems = problems_of(**{**base, **settings})
    assert field in problems, problems
    problem = problems[field]
    assert words in problem.message
    if field not in ("os_type", "init"):
        assert problem.value is not None and str(list(settings.values())[0]) in str(problem)


def test_lxc_needs_exe_and_no_kernel():
    problems = problems_of(hypervisor="lxc", name="c", os_type="hvm", kernel_boot={"kernel": "/boot/vmlinuz"})
    assert "exe" in problems["os_type"].message
    assert "host's kernel" in problems["kernel_boot"].message


def test_vm_needs_image_or_kernel():
    assert "image" in problems_of(hypervisor="qemu", name="q")
    DomainSpec(hypervisor="qemu", name="q", kernel_boot=KernelBoot(kernel="/boot/vmlinuz", initrd="/boot/initrd"))
    DomainSpec(hypervisor="test", name="t")  # the demo driver needs neither


def test_kvm_refuses_a_folder(tmp_path):
    assert "folder" in problems_of(hypervisor="kvm", name="k", image=tmp_path)["image"].message


def test_interface_rules():
    problems = problems_of(
        hypervisor="kvm",
        name="k",
        image="/a.img",
        interfaces=[
            {"mac": "01:00:5e:00:00:01", "bridge": "dp0"},
            {"mac": "02:a1:a1:a1:a1", "bridge": "dp0"},
            {"bridge": "br0", "network": "default"},
            {"bridge": "dp0", "target_dev": "a-very-long-device-name"},
            {"bridge": "dp 0"},
            {"type": "ether"},
        ],
    )
    assert "multicast" in problems["interfaces.0.mac"].message
    assert "six two-digit hex" in problems["interfaces.1.mac"].message
    assert "exactly one" in problems["interfaces.2"].message
    assert "15 characters" in problems["interfaces.3.target_dev"].message
    assert "no spaces" in problems["interfaces.4.bridge"].message
    assert "interface types" in problems["interfaces.5.type"].message


def test_mac_is_normalised_to_lower_case():
    assert Interface(mac="02:A0:A0:A0:A0:A0", bridge="lxcbr0").mac == "02:a0:a0:a0:a0:a0"


def test_invalid_spec_is_a_user_error_without_pydantic_text():
    with pytest.raises(RfconsoleError) as caught:
        DomainSpec(hypervisor="kvm", name="", vcpu="x")
    text = str(caught.value)
    assert "pydantic" not in text and "validation error" not in text.lower()
    assert "vcpu" in text and "name" in text


def test_with_changes_validates():
    vm = DomainSpec(hypervisor="kvm", name="a", image="/a.img")
    assert vm.with_changes(memory="1024").memory == 1024
    with pytest.raises(InvalidSpec):
        vm.with_changes(hypervisor="lxc", os_type="hvm")


def test_missing_files(tmp_path):
    image = tmp_path / "h1.img"
    vm = DomainSpec(hypervisor="qemu", name="q", image=image, kernel_boot={"kernel": tmp_path / "vmlinuz"})
    fields = {problem.field for problem in missing_files(vm)}
    assert fields == {"image", "kernel_boot.kernel"}
    image.write_bytes(b"")
    (tmp_path / "vmlinuz").write_bytes(b"")
    assert missing_files(vm) == []
    rootfs = DomainSpec(hypervisor="lxc", name="c", image=tmp_path / "rootfs", image_kind="folder")
    assert [problem.field for problem in missing_files(rootfs)] == ["image"]
    assert missing_files(DomainSpec(hypervisor="lxc", name="c", image=Path(tmp_path))) == []


def test_every_way_in_raises_invalid_spec():
    with pytest.raises(InvalidSpec):
        DomainSpec.model_validate({"hypervisor": "kvm", "name": "a b"})
    with pytest.raises(InvalidSpec):
        DomainSpec.model_validate_json('{"hypervisor": "kvm", "name": "x", "vcpu": 0}')
    spec = DomainSpec(hypervisor="kvm", name="a", image="/a.img", interfaces=[NIC])
    assert DomainSpec.model_validate_json(spec.model_dump_json()) == spec


NIC = Interface(mac="02:a0:a0:a0:a0:a0", bridge="lxcbr0")
