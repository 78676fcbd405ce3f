"""Console refusals on libvirt's test driver (the demo), before any stream: a domain not running,
an unknown domain, and a driver without consoles. Real consoles: tests/integration/test_console.py."""

from __future__ import annotations

import pytest

from rfconsole.virt.errors import ConsoleNotRunning, ConsoleUnavailable, DomainNotFound


def test_a_shut_off_domain_has_no_console(demo):
    with pytest.raises(ConsoleNotRunning) as refused:
        demo.console("rfvmA", on_output=lambda data: None)
    assert "rfvmA on host demo" in str(refused.value) and "is shut off: its console exists only while it runs" in str(refused.value)
    assert "start" in refused.value.hint


def test_an_unknown_domain_is_named(demo):
    with pytest.raises(DomainNotFound) as refused:
        demo.console("rfvmZ", on_output=lambda data: None)
    assert "no domain named rfvmZ" in str(refused.value)


def test_the_test_driver_has_no_consoles(demo):
    demo.start("rfvmA")
    with pytest.raises(ConsoleUnavailable) as refused:
        demo.console("rfvmA", on_output=lambda data: None)
    assert "has no text consoles" in str(refused.value) and "qemu://" in refused.value.hint
