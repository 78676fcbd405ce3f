"""On-demand boot with two real hosts: a switch mapped to a VM placed on the second daemon (over
qemu+ssh) boots that VM there, and nothing on the first."""

from __future__ import annotations

import pytest

from tests.integration.conftest import QEMU_URI, domain_state, wait_until
from tests.integration.ondemand.conftest import Watch, remove_test_bridges
from tests.integration.test_hosts import two_hosts

pytestmark = pytest.mark.integration


def test_a_switch_boots_its_vm_on_the_host_it_is_placed_on(ondemand_workdir, bridges, clean_host2: str) -> None:
    two_hosts(ondemand_workdir, clean_host2, {"rfvmC": "host2"})
    watch = Watch(ondemand_workdir, connect=None)
    try:
        bridges.add(7, watch.target)  # rftest2: switch 7 is rfvmC's
        wait_until(lambda: domain_state(clean_host2, "rfvmC") == "running", 60, "rfvmC to run on host2 after switch 7 connected")
        watch.wait_for("rfvmC: running at +")
        assert domain_state(QEMU_URI, "rfvmC") is None
    finally:
        remove_test_bridges()
        assert watch.stop() == 0, watch.text
    assert "Traceback" not in watch.text, watch.text
