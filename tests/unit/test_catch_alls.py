"""The console reports a worker's failure in one place (rfconsole/tui/background.py: issue 18): no
screen writes its own catch-all. Checked on the source (ast); a planted catch-all shows it can fail."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MOST = 2  # background.in_background's, and room for one more with a reason


def catch_alls(package: Path) -> list[str]:
    """Every ``except Exception`` / ``except BaseException`` / bare ``except`` under ``package``."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ExceptHandler) and (
                node.type is None or (isinstance(node.type, ast.Name) and node.type.id in ("Exception", "BaseException"))
            ):
                found.append(f"{path.relative_to(package)}:{node.lineno}")
    return found


def test_the_console_has_at_most_two_catch_alls() -> None:
    found = catch_alls(ROOT / "rfconsole" / "tui")
    assert len(found) <= MOST, found
    assert "background.py" in " ".join(found)


def test_a_planted_catch_all_is_found(tmp_path: Path) -> None:
    copy = tmp_path / "tui"
    shutil.copytree(ROOT / "rfconsole" / "tui", copy)
    (copy / "planted.py").write_text("def f():\n    try:\n        pass\n    except Exception:\n        pass\n"
                                     "    try:\n        pass\n    except:\n        pass\n")
    assert len(catch_alls(copy)) == len(catch_alls(ROOT / "rfconsole" / "tui")) + 2
