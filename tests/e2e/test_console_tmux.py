"""The README's promise, end to end in a real terminal: make rfvmA with the wizard, see its XML,
start it, see it running, destroy it, see it shut off; all by keyboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.tmux import Terminal

pytestmark = pytest.mark.e2e


def row_state(terminal: Terminal, screen: str, name: str) -> str:
    return terminal.line_with(screen, f" {name} ")


def test_wizard_xml_start_destroy_by_keyboard(demo_console: Terminal, tmp_path: Path) -> None:
    term = demo_console
    term.wait_for(lambda s: "rfvmA" in s and "rfvmD" in s, "the domains table with rfvmA–rfvmD")

    # The wizard: rfvmA is the first slot, the demo host offers the test driver's hypervisor.
    term.send("n")
    term.wait_for_text("1 Target")
    for step in ("2 Hypervisor", "3 Identity", "4 OS", "5 Resources", "6 Storage", "7 Network", "8 Review"):
        term.send("C-n")
        term.wait_for(lambda s, step=step: f"step {step[0]} of 8" in s, f"wizard step {step}")
    screen = term.wait_for_text("follows libvirt's domain schema")
    assert "<name>rfvmA</name>" in screen
    term.send("C-d")  # save to XML/ and define
    term.wait_for(lambda s: "rfvmA saved, defined" in s, "the wizard's save-and-define notice")
    assert (tmp_path / "XML" / "rfvmA.xml").is_file()

    # Back on the table: rfvmA is the first row; its XML, from the file just written.
    term.wait_for(lambda s: "Domains" in s or "domains," in s, "the domains screen")
    term.send("x")
    screen = term.wait_for_text("<name>rfvmA</name>")
    assert "XML/rfvmA.xml" in screen
    term.send("Escape")

    term.wait_for(lambda s: "shut off" in row_state(term, s, "rfvmA"), "rfvmA shut off")
    term.send("s")
    term.wait_for(lambda s: "running" in row_state(term, s, "rfvmA"), "rfvmA running")

    term.send("d")
    term.wait_for_text("rfvmA on host")  # the confirmation names the domain and its host
    term.send("y")
    term.wait_for(lambda s: "shut off" in row_state(term, s, "rfvmA"), "rfvmA shut off after destroy")
    term.send("q")
