"""Virt tests on libvirt's in-process test driver (real libvirt, no daemon): the demo node XML,
or a node XML whose one domain "test" runs and does not carry rfconsole's mark."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rfconsole.config import Config
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import preset_spec
from rfconsole.model.spec import Hypervisor
from rfconsole.store import Store, Workdir
from rfconsole.virt.fleet import Fleet
from tests.event_recorder import EventRecorder

RFTEST2 = ("rfvmA", "rfvmB", "rfvmC", "rfvmD")
# A node XML holding one running domain "test" that rfconsole did not make (no ownership mark).
# (Not test:///default: its state is shared by every open connection of the process.)
FOREIGN_NODE = """<node>
  <domain type='test'>
    <name>test</name>
    <memory unit='MiB'>64</memory>
    <os><type arch='x86_64'>hvm</type></os>
  </domain>
</node>
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Workdir:
    (tmp_path / "XML").mkdir()
    (tmp_path / "Images").mkdir()
    return Workdir(tmp_path)


@pytest.fixture
def store(workdir: Workdir) -> Store:
    return Store(workdir)


@pytest.fixture
def demo(workdir: Workdir, store: Store) -> Iterator[Fleet]:
    """The embedded demo: rfvmA–rfvmD shut off, owned by rfconsole. A fresh copy per test."""
    fleet = Fleet(Config.load(workdir), store, demo=True)
    yield fleet
    fleet.close()


@pytest.fixture
def foreign_uri(tmp_path: Path) -> str:
    node = tmp_path / "foreign_node.xml"
    node.write_text(FOREIGN_NODE)
    return f"test://{node}"


@pytest.fixture
def foreign(workdir: Workdir, store: Store, foreign_uri: str) -> Iterator[Fleet]:
    fleet = Fleet(Config.load(workdir), store, connect=foreign_uri)
    yield fleet
    fleet.close()


@pytest.fixture
def recorder(demo: Fleet) -> EventRecorder:
    recorder = EventRecorder()
    demo.subscribe(recorder)
    return recorder


def save_preset(
    store: Store, preset: str, hypervisor: Hypervisor = Hypervisor.TEST, with_image: bool = True, **changes
) -> DomainDocument:
    """The preset saved to XML/; its image (Images/hN.img) made too, empty, unless ``with_image`` is
    False (a VM whose image is missing is not started, even on the test driver)."""
    spec = preset_spec(preset, hypervisor, store.workdir)
    if changes:
        spec = spec.with_changes(**changes)
    if with_image and spec.image is not None and not spec.image.exists():
        spec.image.write_bytes(b"")
    document = DomainDocument.from_spec(spec)
    store.save(document)
    return document
