"""Static checks in every `make test` (docs/testing.md, "Static checks"): `ruff check` on
rfconsole/ and tests/ with pyproject.toml's rule set, and `mypy rfconsole` with its [tool.mypy]
configuration. A planted duplicate method (F811, as the wizard's two `_save`s were) shows the
ruff check fails."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _ruff(*paths: Path | str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ruff"), "check", "--no-cache", "--output-format", "concise", *map(str, paths)],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )


def test_ruff_is_clean() -> None:
    done = _ruff("rfconsole", "tests")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_catches_a_method_defined_twice(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "planted.py").write_text(
        "class Wizard:\n    def _save(self) -> int:\n        return 1\n\n    def _save(self) -> int:\n        return 2\n"
    )
    done = _ruff("planted.py", cwd=tmp_path)
    assert done.returncode == 1 and "F811" in done.stdout, done.stdout + done.stderr
