"""Validation against libvirt's own domain schema (domain.rng), reported in words.

libxml2's RELAX NG messages ("Element domain failed to validate content") name the wrong
thing half the time; we keep the specific ones, translate them, give line numbers, and fall
back to the generic ones only when nothing more precise was said.
"""

from __future__ import annotations

import copy
import re
import threading
from pathlib import Path

from lxml import etree

from rfconsole.errors import RfconsoleError
from rfconsole.model.errors import Problem

DOMAIN_RNG = Path("/usr/share/libvirt/schemas/domain.rng")
SCHEMA_PACKAGE = "libvirt0"
# <domain type=…> values domain.rng accepts (its "hvs" choice).
SCHEMA_DOMAIN_TYPES = ("qemu", "kqemu", "kvm", "xen", "lxc", "uml", "openvz", "test", "vmware", "hyperv", "vbox", "phyp", "vz", "bhyve", "hvf")

_lock = threading.Lock()
_cache: dict[Path, etree.RelaxNG] = {}


class SchemaUnavailable(RfconsoleError):
    """libvirt's schema file is missing or unreadable."""


def domain_schema(path: Path = DOMAIN_RNG) -> etree.RelaxNG:
    """libvirt's domain schema, loaded once per process (lazily, thread-safe)."""
    with _lock:
        schema = _cache.get(path)
        if schema is None:
            if not path.is_file():
                raise SchemaUnavailable(
                    f"libvirt's domain schema {path} is missing, so the XML cannot be checked against it",
                    hint=f"install the Debian package {SCHEMA_PACKAGE} (apt-get install {SCHEMA_PACKAGE})",
                )
            try:
                schema = etree.RelaxNG(file=str(path))
            except (etree.RelaxNGParseError, OSError) as error:
                raise SchemaUnavailable(
                    f"libvirt's domain schema {path} cannot be loaded: {error}",
                    hint=f"reinstall the Debian package {SCHEMA_PACKAGE}",
                ) from None
            _cache[path] = schema
        return schema


_TYPE_WORDS = {
    "unsignedShort": "a whole number (0 to 65535)",
    "unsignedInt": "a whole number",
    "unsignedLong": "a whole number",
    "positiveInteger": "a whole number from 1 up",
    "nonNegativeInteger": "a whole number",
    "integer": "a whole number",
    "int": "a whole number",
    "string": "text of the allowed form",
}
_RELIABLE = {"RELAXNG_ERR_TYPEVAL", "RELAXNG_ERR_ATTRVALID"}
_GENERIC = {"RELAXNG_ERR_CONTENTVALID", "RELAXNG_ERR_INTEREXTRA", "RELAXNG_ERR_INTERSEQ", "RELAXNG_ERR_EXTRACONTENT", "RELAXNG_ERR_NOGRAMMAR"}


def schema_problems(document, path: Path = DOMAIN_RNG) -> list[Problem]:
    """What in ``document`` (a DomainDocument or lxml tree) breaks libvirt's domain schema.

    The document is validated as it would be written (re-read from its text), so line numbers
    match the file.
    """
    text = document.to_xml() if hasattr(document, "to_xml") else etree.tostring(document, encoding="unicode")
    tree = etree.ElementTree(etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True)))
    schema = domain_schema(path)
    if schema.validate(tree):
        return []
    root = tree.getroot()
    reliable: list[Problem] = []  # libxml2 is precise about these
    specific: list[Problem] = []
    generic: list[Problem] = []
    domain_type = root.get("type")
    if domain_type is not None and domain_type not in SCHEMA_DOMAIN_TYPES:
        words = "lower case" if domain_type.lower() in SCHEMA_DOMAIN_TYPES else "one of kvm, qemu, lxc, test (or another libvirt driver)"
        reliable.append(Problem(f"line {root.sourceline}", domain_type, f"<domain type=…> must be {words}"))
    for entry in schema.error_log:
        problem = _translate(entry, tree)
        if problem is None:
            continue
        if entry.type_name in _RELIABLE or entry.message.startswith("Invalid attribute"):
            reliable.append(problem)
        elif entry.type_name in _GENERIC:
            generic.append(problem)
        else:
            specific.append(problem)
    problems = list(reliable)
    if not reliable or len(reliable) == 1 and reliable[0].message.startswith("<domain type"):
        culprit = _locate(tree, schema)
        if culprit is not None and all(culprit.field != problem.field for problem in reliable):
            problems.append(culprit)
    problems = problems or specific or generic
    unique: list[Problem] = []
    for problem in problems:
        if problem not in unique:
            unique.append(problem)
    return unique or [Problem("document", None, "does not follow libvirt's domain schema (no detail given)")]


def _translate(entry, tree: etree._ElementTree) -> Problem | None:
    message = entry.message.strip()
    element = _element_at(tree, entry.path)
    line = entry.line or (element.sourceline if element is not None else None)
    where = f"line {line}" if line else "document"
    tag = f"<{_short(element.tag)}>" if element is not None else _path_tag(entry.path)
    if entry.type_name == "RELAXNG_ERR_TYPEVAL" and (match := re.match(r"Type (\w+) doesn't allow value '(.*)'", message)):
        return Problem(where, match.group(2), f"{tag} must be {_TYPE_WORDS.get(match.group(1), 'a ' + match.group(1))}")
    if entry.type_name in ("RELAXNG_ERR_VALUE", "RELAXNG_ERR_DATATYPE", "RELAXNG_ERR_LIST"):
        value = (element.text or "").strip() if element is not None else None
        return Problem(where, value, f"{tag} has a value libvirt does not accept here")
    if entry.type_name == "RELAXNG_ERR_ATTRVALID":
        attributes = ", ".join(f"{key}={value!r}" for key, value in element.attrib.items()) if element is not None else ""
        return Problem(where, None, f"{tag} has an attribute libvirt does not accept ({attributes or 'none given'})")
    if match := re.match(r"Invalid attribute (\S+) for element (\S+)", message):
        return Problem(where, None, f"<{match.group(2)}> has an attribute libvirt does not know: {match.group(1)}")
    if match := re.match(r"Expecting element (\S+), got (\S+)", message):
        return Problem(where, None, f"<{match.group(2)}> found where libvirt expects <{match.group(1)}>")
    if match := re.match(r"Expecting an element (\S*), got nothing", message):
        return Problem(where, None, f"{tag} lacks <{match.group(1)}>" if match.group(1) else f"{tag} lacks a required element")
    if match := re.match(r"Element (\S+) has extra content: (\S+)", message):
        return Problem(where, None, f"<{match.group(1)}> holds something libvirt does not know or allow: {match.group(2)}")
    if match := re.match(r"Did not expect element (\S+) there", message):
        return Problem(where, None, f"<{match.group(1)}> is not allowed there")
    if match := re.match(r"Extra element (\S+) in interleave", message):
        return Problem(where, None, f"<{match.group(1)}> (or something inside it) does not follow libvirt's schema")
    if match := re.match(r"Element (\S+) failed to validate content", message):
        return Problem(where, None, f"the content of <{match.group(1)}> does not follow libvirt's schema (near {_path_tag(entry.path)})")
    if "Invalid sequence in interleave" in message:
        return None
    return Problem(where, None, message[0].lower() + message[1:] if message else "schema error")


# Trial validations at most, and only for documents of a usual size (virsh dumpxml of a big VM
# has a few hundred elements): a huge hostile document must not make validation slow.
LOCATE_BUDGET = 200
LOCATE_MAX_ELEMENTS = 3000


def _locate(tree: etree._ElementTree, schema: etree.RelaxNG, depth: int = 4) -> Problem | None:
    """Find the smallest part whose removal makes the document valid: libxml2 often only says
    "failed to validate content" of the whole <domain>."""
    root = tree.getroot()
    if sum(1 for _ in root.iter()) > LOCATE_MAX_ELEMENTS:
        return None
    found: tuple[etree._Element, str | None] | None = None
    element = root
    budget = LOCATE_BUDGET
    for _ in range(depth):
        culprit = None
        for child in [child for child in element if isinstance(child.tag, str)]:
            budget -= 1
            if budget < 0:
                return None
            if _valid_without(tree, schema, child, None):
                culprit = child
                break
        if culprit is None:
            break
        found = (culprit, None)
        element = culprit
    if found is None:
        return None
    element = found[0]
    for name in list(element.attrib):
        if _valid_without(tree, schema, element, name):
            return Problem(
                f"line {element.sourceline}",
                element.get(name),
                f"libvirt's schema does not accept the attribute {name} of <{_short(element.tag)}> with this value",
            )
    text = (element.text or "").strip() if len(element) == 0 else ""
    if text:
        return Problem(
            f"line {element.sourceline}",
            text,
            f"<{_short(element.tag)}> is not accepted by libvirt's schema here: a value of the wrong form, or a misplaced element",
        )
    return Problem(
        f"line {element.sourceline}",
        None,
        f"<{_short(element.tag)}> is not accepted by libvirt's schema here: an unknown or misplaced element, or a bad value inside it",
    )


def _valid_without(tree: etree._ElementTree, schema: etree.RelaxNG, element: etree._Element, attribute: str | None) -> bool:
    chain = []
    node = element
    while node.getparent() is not None:
        chain.append(node.getparent().index(node))
        node = node.getparent()
    trial = copy.deepcopy(tree)
    target = trial.getroot()
    for index in reversed(chain):
        target = target[index]
    if attribute is None:
        target.getparent().remove(target)
    else:
        del target.attrib[attribute]
    return bool(schema.validate(trial))


def _element_at(tree: etree._ElementTree, path: str | None) -> etree._Element | None:
    if not path:
        return None
    try:
        found = tree.xpath(path)
    except etree.XPathError:
        return None
    return found[0] if found and isinstance(found[0], etree._Element) else None


def _path_tag(path: str | None) -> str:
    if not path:
        return "the document"
    last = path.rstrip("/").split("/")[-1]
    return "<" + re.sub(r"\[\d+\]$", "", last) + ">"


def _short(tag: str) -> str:
    return tag.split("}")[-1] if isinstance(tag, str) else "?"
