"""The headless CLI's done-when, as a user runs it (the installed console script) on the real
libvirtd: four QEMU XMLs made with `rfconsole xml new` go up and down; the demo lists rftest2."""

from __future__ import annotations

import json

import pytest

from .conftest import (
    QEMU_URI,
    READY_MARKER,
    RFTEST2_NAMES,
    SerialConsole,
    domain_state,
    qemu_spec,
    run_cli,
    save_spec,
    virsh,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_libvirt")]


def _xml_new_presets(workdir, guest) -> None:
    for name in RFTEST2_NAMES:
        made = run_cli(
            "--workdir", str(workdir.root), "xml", "new", "--hypervisor", "qemu", "--preset", name,
            "--management-bridge", "none", "--no-image", "--memory", "128",
            "--kernel", str(guest.kernel), "--initrd", str(guest.initrd), "--cmdline", guest.cmdline,
        )
        assert made.returncode == 0, made.stderr
    assert sorted(path.name for path in workdir.xml_dir.glob("*.xml")) == [f"{name}.xml" for name in RFTEST2_NAMES]


def test_up_then_down_four_guests(workdir, guest, dp0_bridge):
    _xml_new_presets(workdir, guest)
    connect = ("--workdir", str(workdir.root), "--connect", QEMU_URI)

    up = run_cli(*connect, "up")
    assert up.returncode == 0, up.stdout + up.stderr
    assert {name: domain_state(QEMU_URI, name) for name in RFTEST2_NAMES} == {name: "running" for name in RFTEST2_NAMES}
    assert "Traceback" not in up.stderr

    again = run_cli(*connect, "up")  # idempotent: already running is success
    assert again.returncode == 0, again.stdout + again.stderr

    # The tiny guests ignore ACPI, so a short --timeout makes `down` destroy them.
    down = run_cli(*connect, "down", "--timeout", "1")
    assert down.returncode == 0, down.stdout + down.stderr
    assert {name: domain_state(QEMU_URI, name) for name in RFTEST2_NAMES} == {name: "shut off" for name in RFTEST2_NAMES}


def test_up_of_a_vm_without_xml_fails_in_words(workdir, guest):
    result = run_cli("--workdir", str(workdir.root), "--connect", QEMU_URI, "up", "rfit-nowhere")
    assert result.returncode == 1
    assert "rfit-nowhere" in result.stderr and "Traceback" not in result.stderr
    assert domain_state(QEMU_URI, "rfit-nowhere") is None


def test_demo_status_json_lists_rftest2():
    result = run_cli("--demo", "status", "--json")
    assert result.returncode == 0, result.stderr
    statuses = json.loads(result.stdout)
    assert sorted(status["name"] for status in statuses) == list(RFTEST2_NAMES)
    assert all(status["state"] == "shut off" for status in statuses)


def test_power_cycle_resets_a_running_guest_which_boots_again(workdir, guest):
    """`power-cycle` is the reset button: the same QEMU process (same domain id) runs the guest's
    firmware and kernel again, and the guest prints its boot marker a second time."""
    save_spec(workdir, qemu_spec("rfit-cycle", guest))
    connect = ("--workdir", str(workdir.root), "--connect", QEMU_URI)
    up = run_cli(*connect, "up", "rfit-cycle")
    assert up.returncode == 0, up.stdout + up.stderr
    with SerialConsole(QEMU_URI, "rfit-cycle") as console:
        first_boot = console.read_until(READY_MARKER)
        domain_id = virsh(QEMU_URI, "domid", "rfit-cycle").strip()
        before = len(console.output)

        cycled = run_cli(*connect, "power-cycle", "rfit-cycle")
        assert cycled.returncode == 0, cycled.stdout + cycled.stderr
        assert "ok     rfit-cycle: power-cycled (hard reset) on host" in cycled.stdout
        assert "power-cycle: 1 of 1 ok" in cycled.stdout and "Traceback" not in cycled.stderr

        second_boot = console.read_until(READY_MARKER, start=before)
    assert "Linux version" in first_boot and "Linux version" in second_boot  # the kernel started over, not only /init
    assert domain_state(QEMU_URI, "rfit-cycle") == "running"
    assert virsh(QEMU_URI, "domid", "rfit-cycle").strip() == domain_id  # reset in place: not a destroy and start


def test_power_cycle_of_a_shut_off_guest_fails_and_starts_nothing(workdir, guest):
    save_spec(workdir, qemu_spec("rfit-cycle", guest))
    connect = ("--workdir", str(workdir.root), "--connect", QEMU_URI)
    defined = run_cli(*connect, "define", "rfit-cycle")
    assert defined.returncode == 0, defined.stdout + defined.stderr
    cycled = run_cli(*connect, "power-cycle", "rfit-cycle")
    assert cycled.returncode == 1
    assert "FAILED rfit-cycle: rfit-cycle on host" in cycled.stdout and "is not running (it is shut off)" in cycled.stdout
    assert domain_state(QEMU_URI, "rfit-cycle") == "shut off"
