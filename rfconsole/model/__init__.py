"""The VM model: a pydantic DomainSpec and libvirt domain XML, both ways.

Pure and fast: no libvirt connection, no Textual. See docs/architecture.md for the contract.
The names below are imported on first use (PEP 562), so that a submodule without pydantic
(``rfconsole.model.rftest2``'s names, ``rfconsole.model.errors``) can be imported without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rfconsole.model.errors import (
        InvalidSpec,
        Problem,
        SchemaProblems,
        XMLInputError,
    )
    from rfconsole.model.kinds import Arch, Hypervisor, ImageKind, OSType
    from rfconsole.model.spec import DomainSpec, Interface, KernelBoot, missing_files

_WHERE = {
    "InvalidSpec": "errors",
    "Problem": "errors",
    "SchemaProblems": "errors",
    "XMLInputError": "errors",
    "Arch": "kinds",
    "DomainSpec": "spec",
    "Hypervisor": "kinds",
    "ImageKind": "kinds",
    "Interface": "spec",
    "KernelBoot": "spec",
    "OSType": "kinds",
    "missing_files": "spec",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
