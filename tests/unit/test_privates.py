"""No module touches another object's private attribute, and no virt/ helper reaches into Fleet
(docs/architecture.md, "Private means private").

Checked on the source (ast), so a planted violation in a copy of the package shows the check
fails:
- ``x._name`` (not a dunder) is allowed only on ``self``, ``cls``, ``super()``, or a class or
  function the same module defines (a module's own privates stay usable inside it), and for
  lxml's ``etree._Element``/``etree._ElementTree`` (public classes of lxml, named so);
- no module of rfconsole/virt/ but fleet.py imports rfconsole.virt.fleet, even for type hints:
  helpers (reset, snapshots, clone, details, writers, console) take a Host and what else they
  need, and Fleet finds hosts and checks ownership through its public calls.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLEET_MODULE = "rfconsole.virt.fleet"
# Public despite the underscore: lxml's element and tree classes are named so (lxml's API
# reference lists etree._Element; lxml-stubs type with it), and nothing else names them.
PUBLIC_BY_THEIR_LIBRARY = {"etree._Element", "etree._ElementTree"}


def _own_names(tree: ast.Module) -> set[str]:
    """Classes and functions the module itself defines, at any depth."""
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)}


def _is_own_receiver(receiver: ast.expr, own: set[str]) -> bool:
    if isinstance(receiver, ast.Name):
        return receiver.id in ("self", "cls") or receiver.id in own
    return isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) and receiver.func.id == "super"


def private_reaches(package: Path) -> list[str]:
    """Every place of ``package`` (a copy of rfconsole/) that reads another object's private."""
    found = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        tree = ast.parse(path.read_text(), str(path))
        own = _own_names(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            name = node.attr
            if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
                continue
            if not _is_own_receiver(node.value, own) and ast.unparse(node) not in PUBLIC_BY_THEIR_LIBRARY:
                found.append(f"{relative}:{node.lineno}: {ast.unparse(node)}")
    return found


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


def test_no_module_reads_another_objects_private() -> None:
    assert private_reaches(ROOT / "rfconsole") == []


def test_no_virt_helper_imports_fleet() -> None:
    assert fleet_imports(ROOT / "rfconsole") == []


def test_planted_violations_are_caught(tmp_path: Path) -> None:
    package = tmp_path / "rfconsole"
    shutil.copytree(ROOT / "rfconsole", package, ignore=shutil.ignore_patterns("__pycache__"))
    with (package / "virt" / "reset.py").open("a") as reset:
        reset.write("\n\ndef planted(fleet, name):\n    return fleet._existing(name, None)\n")
    with (package / "virt" / "snapshots.py").open("a") as snapshots:
        snapshots.write("\nfrom rfconsole.virt import fleet as planted_fleet\n")
    with (package / "virt" / "writers.py").open("a") as writers:
        writers.write("\nif False:\n    from rfconsole.virt.fleet import Fleet\n")

    reaches, imports = private_reaches(package), fleet_imports(package)

    assert [reach for reach in reaches if reach.startswith("virt/reset.py:")] != [], reaches
    assert any("fleet._existing" in reach for reach in reaches), reaches
    assert len(reaches) == 1, reaches
    assert any(found.startswith("virt/snapshots.py:") for found in imports), imports
    assert any(found.startswith("virt/writers.py:") for found in imports), imports
    assert len(imports) == 2, imports
