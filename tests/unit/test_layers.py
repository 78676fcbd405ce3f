"""The layer rules of docs/architecture.md, run as import-linter contracts (pyproject.toml).

A wrong-way import fails this test, and so `make test`; the second test plants one in a copy of
the package to show the check can fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(project / "pyproject.toml")],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layer_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout


def test_a_planted_wrong_way_import_is_caught(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "rfconsole", tmp_path / "rfconsole", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "rfconsole" / "model" / "planted.py").write_text("from rfconsole.virt import fleet  # the model reaching up\n")
    (tmp_path / "rfconsole" / "store" / "__init__.py").open("a").write("\nimport libvirt  # libvirt outside rfconsole.virt\n")
    (tmp_path / "rfconsole" / "cli" / "planted_journal.py").write_text("from rfconsole.store.journal import Intent  # a face keeping a journal\n")
    (tmp_path / "rfconsole" / "virt" / "planted_qemu_img.py").write_text("from rfconsole.images.qemu_img import qemu_img  # qemu-img run by hand\n")
    (tmp_path / "rfconsole" / "tui" / "planted_files.py").write_text("from rfconsole.store._files import write_new  # a face writing by hand\n")
    (tmp_path / "rfconsole" / "cli" / "planted_files.py").write_text("from rfconsole.store import _files  # the same, through the package\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Layers: imports point down only BROKEN" in result.stdout
    assert "rfconsole.model.planted -> rfconsole.virt.fleet" in result.stdout
    assert "libvirt is imported only in rfconsole.virt BROKEN" in result.stdout
    assert "rfconsole.store -> libvirt" in result.stdout
    assert "Only the store and the transaction keep a journal BROKEN" in result.stdout
    assert "rfconsole.cli.planted_journal -> rfconsole.store.journal" in result.stdout
    assert "The store's file machinery stays inside rfconsole.store BROKEN" in result.stdout
    assert "rfconsole.tui.planted_files -> rfconsole.store._files" in result.stdout
    assert "rfconsole.cli.planted_files -> rfconsole.store._files" in result.stdout
    assert "Only the images and the store's journal run qemu-img BROKEN" in result.stdout
    assert "rfconsole.virt.planted_qemu_img -> rfconsole.images.qemu_img" in result.stdout
