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


def _mypy(cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "mypy")], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_mypy_is_clean() -> None:
    """pyproject.toml's [tool.mypy]: check_untyped_defs, libvirt and lxml untyped."""
    done = _mypy()
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_module_of_rfconsole_is_excused_from_mypy() -> None:
    """The baseline of modules not yet clean (ignore_errors) emptied when the wizard's steps
    became widgets; it stays empty."""
    import tomllib

    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"].get("overrides", [])
    excused = [override["module"] for override in overrides if override.get("ignore_errors")]
    assert excused == [], f"modules excused from mypy: {excused}"


def test_mypy_catches_a_type_error_in_a_checked_module(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "rfconsole", tmp_path / "rfconsole", ignore=shutil.ignore_patterns("__pycache__"))
    with (tmp_path / "rfconsole" / "virt" / "writers.py").open("a") as writers:
        writers.write("\n\ndef planted(host: Host) -> int:\n    return host.name\n")
    done = _mypy(tmp_path)
    assert done.returncode == 1 and 'virt/writers.py' in done.stdout and "return-value" in done.stdout, done.stdout + done.stderr
