"""A real terminal for the console: tmux runs it, send-keys types, capture-pane reads the screen."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class Terminal:
    """One detached tmux session of a given size running one command."""

    def __init__(self, command: list[str], cwd: Path, width: int = 120, height: int = 40) -> None:
        if shutil.which("tmux") is None:
            raise RuntimeError("tmux is not installed (scripts/setup.sh installs it)")
        self.session = f"rfconsole-e2e-{uuid.uuid4().hex[:8]}"
        env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
        shell_command = "cd " + shlex.quote(str(cwd)) + " && exec " + shlex.join(command)
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.session, "-x", str(width), "-y", str(height), shell_command],
            check=True,
            env=env,
        )
        subprocess.run(["tmux", "set-option", "-t", self.session, "remain-on-exit", "on"], check=True)

    def send(self, *keys: str) -> None:
        """tmux key names: 'n', 'Enter', 'C-n', 'Escape', 'Down'."""
        subprocess.run(["tmux", "send-keys", "-t", self.session, *keys], check=True)

    def screen(self) -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.session], check=True, capture_output=True, text=True
        ).stdout

    def wait_for(self, predicate, what: str, timeout: float = 20.0) -> str:
        """Poll the pane until ``predicate(screen)`` holds; fail naming ``what`` and showing the screen."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; the screen:\n{screen}")

    def wait_for_text(self, text: str, timeout: float = 20.0) -> str:
        return self.wait_for(lambda screen: text in screen, repr(text), timeout)

    def line_with(self, screen: str, text: str) -> str:
        return next((line for line in screen.splitlines() if text in line), "")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.session], check=False, capture_output=True)
