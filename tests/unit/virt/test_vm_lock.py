"""The VM's own lock (Store.vm_locked, issue 16 item 1): every operation that changes a domain's
definition or disks holds it, so two processes (the console and a CLI command, two commands)
working on one VM run one after the other. Here a second Store on the same folder stands for the
other process (flock locks of two open files conflict, in one process or two)."""

from __future__ import annotations

import threading
import time

import pytest

from rfconsole.store import Store
from tests.unit.virt.conftest import save_preset

HELD_SECONDS = 0.5


def held_elsewhere(store: Store, name: str) -> threading.Event:
    """Another holder takes VM ``name``'s lock for HELD_SECONDS; set once it holds it."""
    taken = threading.Event()

    def hold() -> None:
        with Store(store.workdir).vm_locked(name):
            taken.set()
            time.sleep(HELD_SECONDS)

    threading.Thread(target=hold, daemon=True).start()
    assert taken.wait(5)
    return taken


@pytest.mark.parametrize("operation", ["define", "snapshot_revert", "up", "redeploy"])
def test_an_operation_changing_the_domain_waits_for_the_vm_lock(demo, store, operation):
    save_preset(store, "rfvmA")
    if operation == "snapshot_revert":
        demo.snapshot_create("rfvmA", "clean")
    run = {
        "define": lambda: demo.define("rfvmA"),
        "snapshot_revert": lambda: demo.snapshot_revert("rfvmA", "clean"),
        "up": lambda: demo.up("rfvmA"),
        "redeploy": lambda: demo.redeploy("rfvmA"),
    }[operation]
    held_elsewhere(store, "rfvmA")
    started = time.monotonic()
    run()
    assert time.monotonic() - started >= HELD_SECONDS * 0.8, f"{operation} did not wait for the VM's lock"


def test_another_vm_does_not_wait(demo, store):
    save_preset(store, "rfvmA")
    held_elsewhere(store, "rfvmB")
    started = time.monotonic()
    demo.define("rfvmA")
    assert time.monotonic() - started < HELD_SECONDS * 0.8


def test_the_vm_lock_is_reentrant_in_one_thread(store):
    """An operation made of others (reset reverting a snapshot) never waits for itself."""
    with store.vm_locked("rfvmA", wait=0.2):
        with store.vm_locked("rfvmA", wait=0.2):
            pass
        with store.vm_locked("rfvmA", wait=0.2):  # still held by the outer one
            pass
    other = Store(store.workdir)
    with other.vm_locked("rfvmA", wait=0.2):  # released by the outer one at its end
        pass
