"""Running qemu-img: the one place rfconsole starts it. Only rfconsole.images and the store's
journal (which rebases a kept overlay) run it (pyproject.toml's protected contract): a face asks
rfconsole.images for what it wants done, never qemu-img itself."""

from __future__ import annotations

import os
import subprocess

from rfconsole.images.errors import QEMU_IMG_HINT, ImageError

QEMU_IMG_TIMEOUT = 3600  # a copy of a large base takes a while; an overlay takes milliseconds
ORPHANED_EXIT = 125  # a child whose parent was gone before it could be tied to it: it ran nothing


def dying_with(parent: int, command: list[str]) -> list[str]:
    """``command`` tied to process ``parent``: setpriv sets the parent-death signal (KILL), then a
    shell checks that its parent is still ``parent`` before it execs the command. A parent killed
    after that check kills the command; one killed before it (the moment between fork and setpriv's
    prctl) leaves a child that exits ORPHANED_EXIT having run nothing."""
    guard = 'test "$PPID" = "$0" || exit ' + str(ORPHANED_EXIT) + '; exec "$@"'
    return ["setpriv", "--pdeathsig", "KILL", "--", "sh", "-c", guard, str(parent), *command]


def qemu_img(*args: str, doing: str, timeout: float = QEMU_IMG_TIMEOUT) -> str:
    """Run ``qemu-img args…``; its stdout, or ImageError quoting qemu-img's complaint. The child
    dies with the thread that runs it (``dying_with``): rfconsole killed, even with SIGKILL, never
    leaves a qemu-img copying on; past ``timeout`` it is killed."""
    try:
        result = subprocess.run(
            dying_with(os.getpid(), ["qemu-img", *args]), capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise ImageError(f"cannot {doing}: setpriv is not installed (Debian package util-linux)") from None
    except subprocess.TimeoutExpired:
        raise ImageError(f"cannot {doing}: qemu-img did not finish within {timeout:g} s (killed)") from None
    if result.returncode == 127 and "qemu-img" in result.stderr:
        raise ImageError(f"cannot {doing}: qemu-img is not installed", hint=QEMU_IMG_HINT)
    if result.returncode != 0:
        said = (result.stderr or result.stdout).strip().removeprefix("qemu-img: ")
        raise ImageError(f"cannot {doing}: {said}")
    return result.stdout
