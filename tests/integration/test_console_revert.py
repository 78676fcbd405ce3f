"""Issue 17 item 5: the console follows its VM across a snapshot revert, as across a redeploy."""

from __future__ import annotations

import subprocess

import pytest

from rfconsole.virt.console import ConsoleState

from .conftest import QEMU_URI, qemu_spec, save_spec
from .test_console import Screen, echo_answered

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_libvirt")]


def test_follow_reattaches_after_a_snapshot_revert(workdir, guest, open_fleet):
    name = "rfit-con-revert"
    disk = workdir.image("rfit-con-revert.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "16M"], check=True)
    save_spec(workdir, qemu_spec(name, guest, image=disk))
    fleet = open_fleet(workdir, QEMU_URI)
    fleet.up(name)
    screen = Screen()
    console = fleet.console(name, on_output=screen.write, on_notice=screen.notice, follow=True)
    echo_answered(console, screen)
    fleet.snapshot_create(name, "booted")
    echo_answered(console, screen)  # the snapshot itself leaves the console attached

    fleet.snapshot_revert(name, "booted", force=True)
    screen.wait(lambda: any(n.state is ConsoleState.ATTACHED for n in screen.notices) or any(
        n.state is ConsoleState.CLOSED for n in screen.notices), "the console reattached (or closed)", timeout=30)
    echo_answered(console, screen, timeout=30)  # the reverted guest's output, on the same console
    # before: the started event reattached it, then the end's explanation set it waiting again and
    # opened a second stream, which libvirt refused as held by another client: the session closed
    assert not [n for n in screen.notices if n.state is ConsoleState.CLOSED], [n.message for n in screen.notices]
    assert console.attached
    console.close()
