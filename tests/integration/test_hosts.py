"""Two real libvirt daemons on this machine (scripts/daemons.sh): the first reached locally, the
second over qemu+ssh with its own host_uuid, as two hosts of a lab."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.integration.conftest import QEMU_URI, TCP_URI, virsh

pytestmark = pytest.mark.integration


def host_uuid(uri: str) -> str:
    """The host UUID a daemon reports in its capabilities (what migration compares)."""
    found = re.search(r"<host>\s*<uuid>([0-9a-f-]{36})</uuid>", virsh(uri, "capabilities"))
    assert found, f"no host UUID in {uri}'s capabilities"
    return found.group(1)


def test_the_second_daemon_answers_over_ssh_with_its_own_host_uuid(host2: str) -> None:
    assert host2.startswith("qemu+ssh://")
    first, second = host_uuid(QEMU_URI), host_uuid(host2)
    assert first == host_uuid(TCP_URI)  # the same daemon by another URI
    assert first != second


def test_the_second_daemon_keeps_its_own_domains(clean_host2: str) -> None:
    """Its config dirs are its own: a domain defined there is unknown to the first daemon."""
    xml = "<domain type='qemu'><name>rfit-host2-only</name><memory unit='MiB'>32</memory><os><type>hvm</type></os></domain>"
    subprocess.run(["virsh", "-c", clean_host2, "define", "/dev/stdin"], input=xml, text=True, check=True, capture_output=True)
    assert "rfit-host2-only" in virsh(clean_host2, "list", "--all", "--name")
    assert "rfit-host2-only" not in virsh(QEMU_URI, "list", "--all", "--name")
