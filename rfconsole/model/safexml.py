"""Reading XML nobody vouched for: no DTD, no entities, no network, no file access, a size cap.

libvirt domain XML never needs a DOCTYPE, so any DOCTYPE is refused outright: that closes
entity expansion (billion laughs), external entities (file:///etc/passwd) and external DTDs
(http://…) before any of them could be resolved.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from lxml import etree

from rfconsole.model.errors import XMLInputError
from rfconsole.model.text import file_type_words

MAX_XML_BYTES = 1024 * 1024  # a domain XML is a few KiB; virsh dumpxml of a big VM, tens of KiB


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
        remove_blank_text=False,
        strip_cdata=False,
    )


def read_regular_file(path: str | os.PathLike[str], limit: int = MAX_XML_BYTES, what: str = "a domain XML") -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file at ``path`` and its status, read through one descriptor.

    Anything else is refused at once: the file is opened non-blocking (a FIFO with no writer
    would block the open forever) and its type checked with fstat on that same descriptor, so
    nothing can swap it in between. Bigger than ``limit``: refused before reading it whole.
    ``what`` names the kind of file in the messages."""
    path = Path(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise XMLInputError(f"{path}: no such file") from None
    except PermissionError:
        raise XMLInputError(f"{path}: permission denied") from None
    except OSError as error:
        raise XMLInputError(f"{path}: cannot read it ({error.strerror or error})") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise XMLInputError(f"{path}: is {file_type_words(status.st_mode)}, not {what}", hint=f"{what} is a regular file")
        if status.st_size > limit:
            raise _too_big(str(path), status.st_size, limit, what)
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(descriptor, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise XMLInputError(f"{path}: cannot read it ({error.strerror or error})") from None
    finally:
        os.close(descriptor)
    data = b"".join(chunks)
    if len(data) > limit:
        raise _too_big(str(path), len(data), limit, what)
    return data, status


def read_untrusted_file(path: str | os.PathLike[str], limit: int = MAX_XML_BYTES, what: str = "a domain XML") -> bytes:
    """The bytes of the regular file ``path`` (see ``read_regular_file``)."""
    return read_regular_file(path, limit, what)[0]


def _too_big(source: str, size: int, limit: int, what: str = "a domain XML") -> XMLInputError:
    return XMLInputError(
        f"{source}: {size} bytes is too big for {what} (at most {limit // 1024} KiB)",
        hint=f"{what} is a few KiB; check that this is the right file",
    )


def parse_untrusted(data: bytes | str, source: str = "<input>") -> etree._ElementTree:
    """Parse ``data`` safely into an lxml tree, or raise XMLInputError saying what is wrong."""
    if isinstance(data, str):
        raw = data.encode("utf-8")
        if data.lstrip().startswith("<?xml"):
            # lxml refuses str input that declares an encoding; the text is already decoded.
            end = data.find("?>")
            data = data[end + 2 :] if end != -1 else data
            raw = data.encode("utf-8")
    else:
        raw = bytes(data)
    if len(raw) > MAX_XML_BYTES:
        raise _too_big(source, len(raw), MAX_XML_BYTES)
    if not raw.strip():
        raise XMLInputError(f"{source}: the file is empty, not a domain XML")
    if _has_doctype(raw):
        raise _doctype_refused(source)
    try:
        tree = etree.ElementTree(etree.fromstring(raw, _parser()))
    except etree.XMLSyntaxError as error:
        line = getattr(error, "lineno", None)
        message = _first_line(error.msg if getattr(error, "msg", None) else str(error))
        message = re.sub(r"(, line \d+)+, column \d+$", "", message)
        message = re.sub(r"Excessive depth in document: (\d+), use XML_PARSE_HUGE option", r"elements nested more than \1 deep", message)
        column = getattr(error, "position", (None, None))[1]
        if line and column:
            message += f" (column {column})"
        where = f"{source}, line {line}" if line else source
        raise XMLInputError(f"{where}: not well-formed XML: {message}") from None
    except (ValueError, etree.LxmlError) as error:
        raise XMLInputError(f"{source}: cannot read it as XML: {_first_line(str(error))}") from None
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _doctype_refused(source)
    for node in tree.iter(etree.Entity):
        raise XMLInputError(f"{source}, line {node.sourceline}: entity reference {node.text} refused: domain XML uses no entities")
    return tree


def _has_doctype(raw: bytes) -> bool:
    """Whether the prolog (before the root element, the only place XML allows one) holds a
    DOCTYPE, in any of the encodings an XML file may use."""
    for encoding in ("utf-8", "utf-16", "utf-32"):
        if _prolog_has_doctype(raw.decode(encoding, errors="ignore")):
            return True
    return False


def _prolog_has_doctype(text: str) -> bool:
    position = 0
    text = text.lstrip("\ufeff")
    while True:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        if text.startswith("<?", position):
            closing = "?>"
        elif text.startswith("<!--", position):
            closing = "-->"
        else:
            return text[position : position + 9].upper() == "<!DOCTYPE"
        end = text.find(closing, position + 2)
        if end == -1:
            return False  # unterminated: the parser reports it
        position = end + len(closing)


def _doctype_refused(source: str) -> XMLInputError:
    return XMLInputError(
        f"{source}: a DOCTYPE (DTD or entity declarations) is refused: libvirt domain XML needs none, "
        "and nothing is ever loaded from a DTD, the disk or the network",
        hint="remove the <!DOCTYPE …> part; rfconsole reads plain domain XML only",
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
