from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.tmux import REPO, Terminal


@pytest.fixture
def demo_console(tmp_path: Path) -> Iterator[Terminal]:
    """``rfconsole --demo`` in a fresh working folder, in a 120x40 tmux pane."""
    (tmp_path / "XML").mkdir()
    (tmp_path / "Images").mkdir()
    (tmp_path / "Images" / "h1.img").write_bytes(b"")  # rfvmA's image: a VM is not started without it
    terminal = Terminal([str(REPO / ".venv" / "bin" / "rfconsole"), "--demo"], cwd=tmp_path)
    try:
        yield terminal
    finally:
        terminal.close()


# The real-guest tests (tests/e2e/test_vm_console.py) use the integration layer's fixtures: the
# daemons (and their lock, reentrant in one process), the tiny guest, rfit-… clean-up, folders.
from tests.integration.conftest import (  # noqa: E402,F401
    clean_libvirt,
    daemons,
    daemons_lock,
    guest,
    open_fleet,
    workdir,
)
