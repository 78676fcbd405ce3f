"""The rules every text and path field of the model shares, in one place.

Text that reaches a domain XML must be characters XML can hold (lxml raises ValueError on
anything else), and a path must be one the kernel accepts (else ``stat`` raises
ENAMETOOLONG). Each text or path field's rule (model/rules.py) calls ``check_text`` or
``check_path`` first, so every field refuses the same things with the same words.
"""

from __future__ import annotations

import os
import stat
import unicodedata

COMPONENT_MAX_BYTES = 255  # NAME_MAX: the longest file or folder name Linux file systems allow
PATH_MAX_BYTES = 4095  # PATH_MAX (4096) less the NUL


def text_problem(text: str, what: str) -> str | None:
    """Why ``text`` cannot be the value of ``what``, or None: invalid UTF-8 (arrives from the
    command line as lone surrogates), control characters (tab, line breaks, NUL, escape, DEL,
    C1) and the non-characters U+FFFE/U+FFFF."""
    if text.isascii() and text.isprintable():
        return None  # the common case, at C speed: printable ASCII has none of them
    for position, char in enumerate(text):
        if unicodedata.category(char) == "Cs":
            return f"{what} is not valid UTF-8 text (byte 0x{ord(char) & 0xFF:02x} at character {position + 1})"
        if unicodedata.category(char) == "Cc" or char in "\ufffe\uffff":
            return f"{what} must not contain control characters (found {char!r} at character {position + 1})"
    return None


def path_problem(text: str, what: str) -> str | None:
    """``text_problem``, then the kernel's limits: each name at most 255 bytes, the path 4095."""
    problem = text_problem(text, what)
    if problem is not None:
        return problem
    encoded = text.encode("utf-8")
    if len(encoded) > PATH_MAX_BYTES:
        return f"{what} is {len(encoded)} bytes long; a path has at most {PATH_MAX_BYTES}"
    for component in text.split("/"):
        size = len(component.encode("utf-8"))
        if size > COMPONENT_MAX_BYTES:
            return f"{what} has a file or folder name of {size} bytes; file systems allow at most {COMPONENT_MAX_BYTES}"
    return None


def domain_name_problem(name: str) -> str | None:
    """Why libvirt would refuse ``name`` for a domain, or None: libvirt's own rule, any text on
    one line but '/' (the name is a file name in XML/ too); not rfconsole's stricter NAME_RULE
    for the VMs it creates."""
    if not name:
        return "a VM needs a name"
    problem = text_problem(name, "the name")
    if problem is not None:
        return problem
    if "/" in name:
        return "a domain name cannot contain '/'"
    return None


def check_text(value: object, what: str) -> str:
    """``str(value)`` when it is text XML can hold; else ValueError in words (for the rules)."""
    text = str(value)
    problem = text_problem(text, what)
    if problem is not None:
        raise ValueError(problem)
    return text


def check_path(value: object, what: str) -> str:
    """``str(value)`` when it is a path the kernel accepts; else ValueError in words."""
    text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
    problem = path_problem(text, what)
    if problem is not None:
        raise ValueError(problem)
    return text


FILE_TYPES = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFLNK: "a symbolic link",
}


def file_type_words(mode: int) -> str:
    """What a file of this st_mode is, in words: "a regular file", "a FIFO (named pipe)" …"""
    return "a regular file" if stat.S_ISREG(mode) else FILE_TYPES.get(stat.S_IFMT(mode), "not a regular file")


def path_type_words(path: str | os.PathLike[str]) -> str | None:
    """``file_type_words`` of what is at ``path`` (links followed), or None when nothing is there
    or it cannot be looked at."""
    try:
        return file_type_words(os.stat(path).st_mode)
    except (OSError, ValueError):
        return None


def missing_folder_words(path: str | os.PathLike[str]) -> str:
    """Why no file can be made in ``path``, in words following it: "does not exist", or what is
    there instead ("is a regular file, not a folder")."""
    found = path_type_words(path)
    return "does not exist" if found is None or found == "a folder" else f"is {found}, not a folder"


def file_kind(path: str | os.PathLike[str]) -> str | None:
    """What is at ``path`` now: "folder", "file" (a regular file), "other" (a device, a FIFO …),
    or None: nothing, or it cannot be looked at (no access, a name too long)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "other"


def own_folder_problem(path: str | os.PathLike[str]) -> str | None:
    """Why rfconsole may not make or use ``path`` as a folder of its own (a backup folder, XML/'s
    lock folder): it is a symbolic link (what is written there would land wherever it points) or
    something other than a folder; None when it is a real folder or nothing yet."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        return f"cannot be looked at ({getattr(error, 'strerror', None) or error})"
    if stat.S_ISLNK(mode):
        return f"is a symbolic link (to {os.readlink(path)}), not a folder; rfconsole writes into no folder through a link"
    return None if stat.S_ISDIR(mode) else "is not a folder"
