"""A file of XML/ against libvirt's definition of the same domain, as two texts worth diffing.

libvirt fills in what a file leaves unset (controllers, a memory balloon, seclabels, a machine type,
PCI addresses, ``unit='KiB'`` …), so a plain diff of the two is flooded with lines nobody wrote.
``comparable`` keeps of libvirt's document only what the file also says (elements matched by tag and
identity, attributes the file sets), in the file's order, with sizes in one unit; what is left are
real differences: a value changed, or something in the file that libvirt does not have.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from lxml import etree

from rfconsole.model.domainxml import DomainDocument, unit_bytes
from rfconsole.model.errors import XMLInputError

# Children that say which device or item an element is, beyond its tag (a NIC by its MAC, a disk by
# its target …): an element of the file is matched to libvirt's one that agrees on these first.
IDENTITY_PATHS = ("mac/@address", "target/@dev", "target/@dir", "source/@file", "source/@dir", "source/@bridge",
                  "source/@network", "alias/@name", "@type", "@name", "@dev", "@index", "@model")


@dataclass(frozen=True)
class Comparable:
    live: str  # libvirt's definition, cut down to what the file says
    file: str  # the file as rfconsole writes it
    left_out: int  # elements libvirt added that the file does not have (its defaults)


def comparable(live_text: str, file_text: str) -> Comparable:
    """The two documents normalised for a diff; a text that does not parse is compared as it is."""
    try:
        live = DomainDocument.parse(live_text, source="libvirt")
        mine = DomainDocument.parse(file_text, source="file")
    except XMLInputError:
        return Comparable(live_text, file_text, 0)
    theirs = copy.deepcopy(live.root)
    own = copy.deepcopy(mine.root)
    for root in (theirs, own):
        for remark in root.xpath("//comment() | //processing-instruction()"):
            remark.getparent().remove(remark)  # a comment is no difference (tails are dropped by _text)
    _sizes_in_bytes(theirs)
    _sizes_in_bytes(own)
    left_out = _prune(theirs, own)
    return Comparable(_text(theirs), _text(own), left_out)


def _prune(theirs: etree._Element, mine: etree._Element) -> int:
    """Cut ``theirs`` down to what ``mine`` says, in ``mine``'s order; returns how many of its
    elements were cut (libvirt's additions)."""
    for name in [name for name in theirs.attrib if name not in mine.attrib]:
        del theirs.attrib[name]
    left_out = 0
    unmatched = [child for child in theirs if isinstance(child.tag, str)]
    ordered: list[etree._Element] = []
    for own_child in (child for child in mine if isinstance(child.tag, str)):
        match = _best_match(own_child, unmatched)
        if match is not None:
            unmatched.remove(match)
            left_out += _prune(match, own_child)
            ordered.append(match)
    left_out += len(unmatched)
    for child in unmatched:
        theirs.remove(child)
    if [child for child in theirs if isinstance(child.tag, str)] != ordered:
        # moved only when the order differs: lxml may re-declare a moved element's namespace prefix
        for child in ordered:
            theirs.append(child)
    if len(mine) == 0 and len(ordered) == 0 and mine.text is None:
        theirs.text = None
    return left_out


def _best_match(element: etree._Element, candidates: list[etree._Element]) -> etree._Element | None:
    same_tag = [candidate for candidate in candidates if candidate.tag == element.tag]
    if not same_tag:
        return None
    wanted = _identity(element)

    def agreement(candidate: etree._Element) -> int:
        found = _identity(candidate)
        return sum(1 for path, value in wanted.items() if found.get(path) == value)

    return max(same_tag, key=agreement)  # max keeps the first of equals: document order


def _identity(element: etree._Element) -> dict[str, str]:
    found = {}
    for path in IDENTITY_PATHS:
        values = element.xpath(path)
        if isinstance(values, list) and values:
            found[path] = str(values[0])
    return found


def _sizes_in_bytes(root: etree._Element) -> None:
    """``<memory unit='MiB'>512</memory>`` and libvirt's ``<memory unit='KiB'>524288</memory>`` say the
    same: both are written in KiB, as libvirt writes them (in bytes where KiB are not whole)."""
    for element in root.iter("memory", "currentMemory", "maxMemory", "size", "hard_limit", "soft_limit"):
        scale = unit_bytes(element.get("unit"))
        text = (element.text or "").strip()
        if scale is not None and text.isdigit():
            size = int(text) * scale
            element.text, unit = (str(size // 1024), "KiB") if size % 1024 == 0 else (str(size), "bytes")
            element.set("unit", unit)


def _text(root: etree._Element) -> str:
    for element in root.iter():
        element.tail = None
        if element.text is not None and not element.text.strip() and len(element):
            element.text = None
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="unicode") + "\n"
