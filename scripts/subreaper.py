#!/usr/bin/python3
"""Run a command under a prompt child subreaper.

This sandbox's PID 1 reaps orphans 1.2-1.7 s late, and libvirt's destroy waits until its
QEMU has been reaped. Run as the parent of libvirtd, this process becomes the reaper of
everything libvirtd daemonises (QEMU, LXC controllers) and reaps them at once.

    subreaper.py COMMAND [ARG...]

It exits once it has no children left (the command and everything orphaned to it), with
the command's exit status.
"""
import ctypes
import os
import sys

PR_SET_CHILD_SUBREAPER = 36


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: subreaper.py COMMAND [ARG...]", file=sys.stderr)
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        print(f"subreaper: prctl(PR_SET_CHILD_SUBREAPER) failed: {os.strerror(errno)}", file=sys.stderr)
        return 1
    command_pid = os.fork()
    if command_pid == 0:
        try:
            os.execvp(argv[0], argv)
        except OSError as error:
            print(f"subreaper: cannot run {argv[0]}: {error.strerror}", file=sys.stderr)
            os._exit(127)
    command_status = 1
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return command_status
        except InterruptedError:
            continue
        if pid == command_pid:
            command_status = os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
