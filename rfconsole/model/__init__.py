"""The VM model: a pydantic DomainSpec and libvirt domain XML, both ways.

Pure and fast: no libvirt connection, no Textual. See docs/architecture.md for the contract.
"""

from rfconsole.model.errors import InvalidSpec, Problem, SchemaProblems, XMLInputError
from rfconsole.model.spec import (
    Arch,
    DomainSpec,
    Hypervisor,
    ImageKind,
    Interface,
    KernelBoot,
    OSType,
    missing_files,
)

__all__ = [
    "Arch",
    "DomainSpec",
    "Hypervisor",
    "ImageKind",
    "Interface",
    "InvalidSpec",
    "KernelBoot",
    "OSType",
    "Problem",
    "SchemaProblems",
    "XMLInputError",
    "missing_files",
]
