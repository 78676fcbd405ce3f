"""Which running domains write a file (``Fleet.writers_of``): asked before rfconsole copies an
image (``rfconsole image base``), because ``qemu-img convert -U`` of a file a guest is writing
copies whatever half-written state the file is in.

Only hosts whose files are this machine's are asked (qemu:///system, lxc:///…, test:///…): a
remote host's paths name files on that host. A domain writes the top file of each writable disk
(model/snapshot.py, ``files_the_guest_writes``); its backing files are only read. Paths are
compared after following symbolic links.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rfconsole.model.snapshot import files_the_guest_writes
from rfconsole.virt.errors import DomainNotFound, VirtError
from rfconsole.virt.events import DomainState

if TYPE_CHECKING:
    from rfconsole.virt.host import Host


@dataclass(frozen=True)
class Writer:
    """A domain that is running (or paused, or any state with a live process) and writes ``path``."""

    host: str
    domain: str
    state: DomainState
    path: Path  # which of the files asked about it writes

    def __str__(self) -> str:
        return f"domain {self.domain} on host {self.host} ({self.state.value})"


@dataclass(frozen=True)
class WritersFound:
    writers: list[Writer]
    unchecked: list[str]  # hosts (or domains) that could not be asked, with why


def writers_of(hosts: Iterable[Host], paths: Iterable[str | os.PathLike[str]]) -> WritersFound:
    wanted = {os.path.realpath(path): Path(path) for path in paths}
    writers: list[Writer] = []
    unchecked: list[str] = []
    for host in hosts:
        if not host.is_local:
            continue
        try:
            statuses = host.statuses()
        except VirtError as error:
            unchecked.append(f"host {host.name}: {error.message}")
            continue
        for status in statuses:
            if not status.state.is_active:
                continue
            try:
                document = host.document(status.name)  # the live definition: the files it has open now
            except DomainNotFound:
                continue  # gone while we were reading
            except VirtError as error:
                unchecked.append(f"domain {status.name} on host {host.name}: {error.message}")
                continue
            for written in files_the_guest_writes(document):
                asked = wanted.get(os.path.realpath(written))
                if asked is not None:
                    writers.append(Writer(host.name, status.name, status.state, asked))
    return WritersFound(writers, unchecked)
