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
    terminal = Terminal([str(REPO / ".venv" / "bin" / "rfconsole"), "--demo"], cwd=tmp_path)
    try:
        yield terminal
    finally:
        terminal.close()
