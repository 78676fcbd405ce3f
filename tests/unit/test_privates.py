"""No virt/ helper reaches into Fleet (docs/architecture.md, "Private means private").

Checked on the source (ast), so a planted violation in a copy of the package shows the check
fails: no module of rfconsole/virt/ but fleet.py imports rfconsole.virt.fleet, even for type
hints. Helpers (reset, snapshots, clone, details, writers, console) take a Host and what else
they need; Fleet finds hosts and checks ownership through its public calls.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLEET_MODULE = "rfconsole.virt.fleet"


def fleet_imports(package: Path) -> list[str]:
    """Every module of virt/ but fleet.py that imports the Fleet module."""
    found = []
    for path in sorted((package / "virt").glob("*.py")):
        if path.name == "fleet.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            if FLEET_MODULE in modules:
                found.append(f"virt/{path.name}:{node.lineno}: imports {FLEET_MODULE}")
    return found


def test_no_virt_helper_imports_fleet() -> None:
    assert fleet_imports(ROOT / "rfconsole") == []


def test_planted_fleet_imports_are_caught(tmp_path: Path) -> None:
    package = tmp_path / "rfconsole"
    shutil.copytree(ROOT / "rfconsole", package, ignore=shutil.ignore_patterns("__pycache__"))
    with (package / "virt" / "snapshots.py").open("a") as snapshots:
        snapshots.write("\nfrom rfconsole.virt import fleet as planted_fleet\n")
    with (package / "virt" / "writers.py").open("a") as writers:
        writers.write("\nif False:\n    from rfconsole.virt.fleet import Fleet\n")

    imports = fleet_imports(package)

    assert any(found.startswith("virt/snapshots.py:") for found in imports), imports
    assert any(found.startswith("virt/writers.py:") for found in imports), imports
    assert len(imports) == 2, imports
