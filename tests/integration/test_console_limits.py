"""What the VM console cannot do, measured on real guests (docs/console.md, "What the console
does not do"): a serial port or LXC's console carries no window size (the guest's tty has
none, 0 by 0, until `stty rows R cols C` there sets it), and libvirt's LXC driver cannot make a
console exclusive: a second client attaches beside the first and both reach the same shell."""

from __future__ import annotations

import re

import pytest

from rfconsole.model.spec import DomainSpec, Hypervisor

from .conftest import LXC_URI, qemu_spec, save_spec
from .test_console import Screen, echo_answered

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_libvirt")]

SIZE = re.compile(rb"\r?\n(\d+) (\d+)\r?\n")
NO_SIZE = b"stty: standard input"


def tty_size(console, screen: Screen) -> tuple[int, int] | None:
    """(rows, columns) as the guest's console tty has them; None when it has none (0 by 0:
    busybox's `stty size` then fails, naming standard input)."""
    start = len(screen.output)
    console.send(b"stty size\n")
    screen.wait(lambda: SIZE.search(screen.output[start:]) is not None or NO_SIZE in screen.output[start:], "stty's answer")
    found = SIZE.search(screen.output[start:])
    return None if found is None else (int(found.group(1)), int(found.group(2)))


@pytest.mark.parametrize("hypervisor", [Hypervisor.QEMU, Hypervisor.LXC])
def test_no_window_size_reaches_the_guest_and_stty_sets_it(workdir, guest, open_fleet, hypervisor):
    name = f"rfit-size-{hypervisor.value}"
    if hypervisor is Hypervisor.QEMU:
        spec, uri = qemu_spec(name, guest), None
    else:
        spec, uri = DomainSpec(hypervisor=hypervisor, name=name, memory=64, image=guest.lxc_rootfs, init="/init"), LXC_URI
    save_spec(workdir, spec)
    fleet = open_fleet(workdir, uri) if uri else open_fleet(workdir)
    fleet.up(name)
    screen = Screen()
    console = fleet.console(name, on_output=screen.write)
    try:
        echo_answered(console, screen)
        assert tty_size(console, screen) is None  # nothing told the guest a size
        console.send(b"stty rows 40 cols 120\n")
        assert tty_size(console, screen) == (40, 120)  # the workaround docs/console.md gives
    finally:
        console.close()


def test_lxc_console_is_shared_by_two_clients(workdir, guest, open_fleet):
    save_spec(workdir, DomainSpec(hypervisor=Hypervisor.LXC, name="rfit-shared", memory=64, image=guest.lxc_rootfs, init="/init"))
    fleet = open_fleet(workdir, LXC_URI)
    fleet.up("rfit-shared")
    first, second = Screen(), Screen()
    one = fleet.console("rfit-shared", on_output=first.write)
    two = fleet.console("rfit-shared", on_output=second.write)  # QEMU refuses this one (SAFE): LXC cannot
    try:
        assert not one.exclusive and not two.exclusive and not two.took_over
        assert "other clients may share it" in two.describe()
        # Both reach the one shell; what it prints goes to one reader or the other, so the
        # answer to a command is looked for on both screens.
        start = (len(first.output), len(second.output))
        two.send(b"echo RF$((6*7))\n")
        first.wait(lambda: b"RF42" in first.output[start[0]:] or b"RF42" in second.output[start[1]:], "the answer on either screen")
    finally:
        one.close()
        two.close()
