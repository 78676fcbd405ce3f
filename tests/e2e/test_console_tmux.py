"""The README's promise, end to end in a real terminal: make rfvmA with the wizard, see its XML,
start it, see it running, destroy it, see it shut off; all by keyboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.tmux import REPO, Terminal

pytestmark = pytest.mark.e2e


def row_state(terminal: Terminal, screen: str, name: str) -> str:
    return terminal.line_with(screen, f" {name} ")


def test_wizard_xml_start_destroy_by_keyboard(demo_console: Terminal, tmp_path: Path) -> None:
    term = demo_console
    # rfvmA's image, where the wizard puts it: a VM whose image is missing is not started, on the
    # test driver either (Fleet.check_files)
    (tmp_path / "Images").mkdir(exist_ok=True)
    (tmp_path / "Images" / "h1.img").write_bytes(b"")
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
    term.wait_for_text("Replace rfvmA on host demo?")  # the demo host has an rfvmA: replacing it asks first
    term.send("y")
    term.wait_for(lambda s: "rfvmA saved, defined" in s, "the wizard's save-and-define notice")
    assert (tmp_path / "XML" / "rfvmA.xml").is_file()

    # Back on the table: rfvmA is the first row; its XML, from the file just written.
    term.wait_for(lambda s: "Domains" in s or "domains," in s, "the domains screen")
    term.send("x")
    term.wait_for_text("<name>rfvmA</name>")
    term.wait_for_text("XML/rfvmA.xml")  # drawn with the text, or a frame after it on a busy machine
    term.send("Escape")

    term.wait_for(lambda s: "shut off" in row_state(term, s, "rfvmA"), "rfvmA shut off")
    term.send("s")
    term.wait_for(lambda s: "running" in row_state(term, s, "rfvmA"), "rfvmA running")

    term.send("d")
    term.wait_for_text("rfvmA on host")  # the confirmation names the domain and its host
    term.send("y")
    term.wait_for(lambda s: "shut off" in row_state(term, s, "rfvmA"), "rfvmA shut off after destroy")
    term.send("q")


def test_the_whole_round_at_80x24_never_loses_work(tmp_path: Path) -> None:
    """Issue 10's walk, by keys in a real 80x24 terminal, reading the screen: make a VM in the wizard
    (quitting with its fields filled asks), define, start, edit its XML (quitting unsaved asks), save,
    undefine (the file stays, the row too), define it again from the list."""
    (tmp_path / "XML").mkdir()
    (tmp_path / "Images").mkdir()
    (tmp_path / "Images" / "h1.img").write_bytes(b"")  # a VM is not started without its image
    term = Terminal([str(REPO / ".venv" / "bin" / "rfconsole"), "--demo"], cwd=tmp_path, width=80, height=24)
    try:
        term.wait_for(lambda s: "rfvmA" in s and "rfvmD" in s, "the domains table")
        term.send("n")
        term.wait_for_text("1 Target")
        for step in "23":
            term.send("C-n")
            term.wait_for(lambda s, step=step: f"step {step} of 8" in s, f"wizard step {step}")

        term.send("C-q")  # fields filled: asks
        term.wait_for_text("Quit rfconsole?")
        term.send("n")
        term.wait_for(lambda s: "step 3 of 8" in s and "Quit rfconsole?" not in s, "back on the wizard")

        for step in "45678":
            term.send("C-n")
            term.wait_for(lambda s, step=step: f"step {step} of 8" in s, f"wizard step {step}")
        term.wait_for_text("follows libvirt's domain schema")
        term.send("C-d")  # save and define; the demo host's rfvmA is replaced only after asking
        term.wait_for_text("Replace rfvmA on host demo?")
        term.send("y")
        term.wait_for(lambda s: "shut off" in row_state(term, s, "rfvmA") and "step" not in s, "back on the table")
        assert (tmp_path / "XML" / "rfvmA.xml").is_file()

        term.send("s")
        term.wait_for(lambda s: "running" in row_state(term, s, "rfvmA"), "rfvmA running")

        term.send("e")
        term.wait_for_text("<name>rfvmA</name>")
        term.send("C-End", "Enter")
        term.send("-l", "<!-- edited at 80x24 -->")
        term.wait_for_text("unsaved changes")
        term.send("C-q")  # unsaved edit: asks
        term.wait_for_text("Quit rfconsole?")
        term.send("n")
        term.wait_for(lambda s: "Quit rfconsole?" not in s and "edited at 80x24" in s, "back in the editor")
        term.send("C-s")
        term.wait_for(lambda s: "unsaved changes" not in s and "valid" in s, "saved")
        assert "edited at 80x24" in (tmp_path / "XML" / "rfvmA.xml").read_text()
        term.send("Escape")
        term.wait_for(lambda s: "running" in row_state(term, s, "rfvmA"), "the table again")

        term.send("d")
        term.wait_for_text("rfvmA on host demo?")
        term.send("y")
        term.wait_for(lambda s: "shut off" in row_state(term, s, "rfvmA"), "rfvmA shut off")
        term.send("u")
        term.wait_for_text("Undefine rfvmA on host demo?")
        term.send("y")
        term.wait_for(lambda s: "undefined" in row_state(term, s, "rfvmA"), "rfvmA listed, undefined")
        assert "edited at 80x24" in (tmp_path / "XML" / "rfvmA.xml").read_text()  # the file stays

        term.send("f")  # define it again, from the row
        term.wait_for(lambda s: "shut off" in row_state(term, s, "rfvmA"), "rfvmA defined again")
        term.send("q")  # nothing unsaved: quits at once
        term.wait_for(lambda s: "rfvmA" not in s or "Pane is dead" in s, "the console gone")
    finally:
        term.close()


def test_a_burst_typed_after_slash_goes_to_the_filter(demo_console: Terminal) -> None:
    """Issue 17 item 7: '/shut' sent in one burst (as a paste arrives) started rfvmC (s) and opened
    an Undefine dialog (u). Every letter after '/' is the filter's."""
    term = demo_console
    term.wait_for(lambda s: "rfvmA" in s and "rfvmD" in s and "domains," in s, "the domains table")
    term.send("Down", "Down")  # the cursor on rfvmC
    term.send("/shut")  # one send-keys: the terminal receives the five keys together
    screen = term.wait_for_text("filtering 'shut'")
    assert "on host demo?" not in screen and "running" not in row_state(term, screen, "rfvmC")
    term.send("Enter", "Escape")
    screen = term.wait_for(lambda s: "filter" not in term.line_with(s, "domains,"), "the filter cleared")
    assert "0 running" in screen and "on host demo?" not in screen, screen
    term.send("q")
