"""The one exception family every layer raises for problems a user can fix.

The CLI prints ``str(error)`` and ``error.hint`` and exits 1; the console shows them as a
notification. Anything else escaping is a bug.
"""

from __future__ import annotations


class RfconsoleError(Exception):
    """A problem the user can act on: the message says what is wrong, the hint what to do."""

    def __init__(self, message: str, hint: str | None = None, console_hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.console_hint = console_hint  # what to do in the console, where ``hint`` names a command-line way

    def __str__(self) -> str:
        return self.message


class UsageError(RfconsoleError):
    """The command line itself is wrong (exit code 2)."""
