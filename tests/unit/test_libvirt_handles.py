"""No libvirt handle leaves rfconsole/virt/host.py (docs/architecture.md, "rfconsole/virt/").

Checked on the source (ast), so a planted violation in a copy of the package shows the check
fails. Outside host.py no module may:
- import libvirt (errors.py may: it translates libvirtError and reads its codes, no handle);
- call a libvirt API that hands out a handle (lookupByName, openConsole, newStream …);
- call ``.find(…)``/``.domain(…)`` on a host (Host's lookups are private; ``exists(name)`` is public);
- call a private method of Host or ConsoleStream on anything but ``self``.
And no public method of host.py's classes may be annotated to return a libvirt type.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOST_MODULE = Path("virt") / "host.py"
MAY_IMPORT_LIBVIRT = {HOST_MODULE, Path("virt") / "errors.py"}
HANDLE_APIS = {  # libvirt methods whose result is a handle (connection, domain, stream, snapshot …)
    "open", "openReadOnly", "openAuth", "lookupByName", "lookupByID", "lookupByUUID", "lookupByUUIDString",
    "listAllDomains", "defineXML", "defineXMLFlags", "createXML", "createXMLWithFiles", "newStream",
    "openConsole", "openChannel", "openGraphics", "snapshotLookupByName", "snapshotCurrent",
    "listAllSnapshots", "snapshotCreateXML", "checkpointLookupByName", "listAllCheckpoints",
}
HOST_LOOKUPS = {"find", "domain"}


def _private_methods(tree: ast.Module) -> set[str]:
    return {
        node.name
        for cls in tree.body
        if isinstance(cls, ast.ClassDef)
        for node in cls.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("_") and not node.name.startswith("__")
    }


def _public_returns_of_handles(tree: ast.Module) -> list[tuple[int, str]]:
    found = []
    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef):
            continue
        for node in cls.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and node.returns is not None:
                returns = ast.unparse(node.returns)
                if "libvirt." in returns:
                    found.append((node.lineno, f"{cls.name}.{node.name} returns {returns}"))
    return found


def handle_leaks(package: Path) -> list[str]:
    """Every place of ``package`` (a copy of rfconsole/) where a libvirt handle leaves host.py."""
    host_tree = ast.parse((package / HOST_MODULE).read_text())
    private = _private_methods(host_tree)
    leaks = [f"{HOST_MODULE}:{line}: {what}" for line, what in _public_returns_of_handles(host_tree)]
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if relative == HOST_MODULE:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = f"{relative}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Import | ast.ImportFrom) and relative not in MAY_IMPORT_LIBVIRT:
                modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(module.split(".")[0] == "libvirt" for module in modules):
                    leaks.append(f"{where}: imports libvirt")
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            method, receiver = node.func.attr, ast.unparse(node.func.value)
            if method in HANDLE_APIS and (receiver == "libvirt" or method != "open"):
                leaks.append(f"{where}: {receiver}.{method}() hands out a libvirt handle")
            elif method in HOST_LOOKUPS and "host" in receiver.lower():
                leaks.append(f"{where}: {receiver}.{method}() looks a domain up outside host.py")
            elif method in private and receiver not in ("self", "cls"):
                leaks.append(f"{where}: {receiver}.{method}() is host.py's own")
    return leaks


def test_no_libvirt_handle_leaves_host_py() -> None:
    assert handle_leaks(ROOT / "rfconsole") == []


def test_a_planted_handle_is_caught(tmp_path: Path) -> None:
    package = tmp_path / "rfconsole"
    shutil.copytree(ROOT / "rfconsole", package, ignore=shutil.ignore_patterns("__pycache__"))
    with (package / "virt" / "console.py").open("a") as console:
        console.write("\n\ndef planted(host, name):\n    return host.find(name).ID()\n")
    with (package / "virt" / "fleet.py").open("a") as fleet:
        fleet.write("\n\ndef planted(fleet, name):\n    return fleet.host().connection.lookupByName(name)\n")
    with (package / "virt" / "details.py").open("a") as details:
        details.write("\n\ndef planted(chosen, name):\n    return chosen._domain(name)\n")
    with (package / "tui" / "fleetview.py").open("a") as view:
        view.write("\nimport libvirt\n")
    with (package / "virt" / "host.py").open("a") as host:
        host.write("\n\nclass Planted:\n    def handle(self) -> libvirt.virDomain | None:\n        return None\n")

    leaks = handle_leaks(package)

    assert any(leak.startswith("virt/console.py:") and "host.find() looks a domain up" in leak for leak in leaks), leaks
    assert any(leak.startswith("virt/fleet.py:") and ".lookupByName() hands out a libvirt handle" in leak for leak in leaks), leaks
    assert any(leak.startswith("virt/details.py:") and "chosen._domain() is host.py's own" in leak for leak in leaks), leaks
    assert any(leak.startswith("tui/fleetview.py:") and "imports libvirt" in leak for leak in leaks), leaks
    assert any("Planted.handle returns libvirt.virDomain | None" in leak for leak in leaks), leaks
    assert len(leaks) == 5, leaks
