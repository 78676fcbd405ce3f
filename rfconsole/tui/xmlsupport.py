"""What the XML screen asks of the lower layers: read, check, save. The model parses; the store writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rfconsole.errors import RfconsoleError
from rfconsole.model.checks import check_document
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.text import file_kind
from rfconsole.store import file_version
from rfconsole.tui.context import ConsoleContext


@dataclass
class XmlSource:
    text: str
    path: Path | None  # the file in XML/, None when only libvirt knows the domain
    live_text: str | None  # libvirt's live definition, None when the domain is not defined
    version: str | None = None  # what the file held (store.file_version): a save refuses if it changed since


def open_xml(context: ConsoleContext, name: str | None, host: str | None, path: Path | None) -> XmlSource:
    live = None
    if name is not None:
        live = context.fleet.live_xml(name, host=host)
    if path is None and name is not None:
        path = context.store.find(name)
    if path is not None and file_kind(path) == "file":
        data, version = context.store.read_file(path)  # a regular file only, size-capped
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = DomainDocument.parse(data, source=str(path)).to_xml()  # declared another encoding
        return XmlSource(text, path, live, version)
    if live is None:
        raise RfconsoleError(f"no XML for {name}: no file in {context.workdir.xml_dir} and not defined on host {host}")
    return XmlSource(live, None, live)


def default_path(context: ConsoleContext, name: str) -> Path:
    return context.store.path_for(name)


def problems_in(text: str, name: str | None = None) -> list[str]:
    """Everything wrong with the text, in words, with line numbers where the model gives them."""
    try:
        document = DomainDocument.parse(text, source="editor")
    except RfconsoleError as error:
        return [error.message]
    return check_document(document).errors  # the CLI's `xml validate` check, in the same order


def save(context: ConsoleContext, text: str, path: Path | None, based_on: str | None = None) -> tuple[Path, str]:
    """Save the text to ``path``; refused when the file no longer holds ``based_on`` (someone
    else saved it since it was read). Returns where, and the version now in the file."""
    document = DomainDocument.parse(text, source=str(path) if path else "editor")
    saved = context.store.save(document, path=path, overwrite=True, based_on=based_on)
    return saved, file_version(document.to_bytes())
