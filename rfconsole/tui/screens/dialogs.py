"""Modal dialogs: confirmation naming the domain and its host, a file picker, a picker over XML/."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Label, OptionList
from textual.widgets.option_list import Option

from rfconsole.tui import keymap
from rfconsole.tui.styles import stylesheet_paths


class ConfirmDialog(ModalScreen[bool]):
    """Yes or no; the question names what will be done to which domain on which host."""

    CSS_PATH = stylesheet_paths("dialogs.tcss")
    KEYMAP = (keymap.CONFIRM,)
    BINDINGS = keymap.CONFIRM.bindings()
    AUTO_FOCUS = "#no"  # from the first frame: Enter right after the dialog shows must not answer yes

    def __init__(self, question: str, warning: str = "") -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.warning = warning

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm", classes="dialog-box"):
            yield Label(self.question, id="question")
            if self.warning:
                yield Label(self.warning, id="warning")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no", variant="primary")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class FilePickerDialog(ModalScreen["Path | None"]):
    """Pick a file under a folder (the images of the working folder)."""

    CSS_PATH = stylesheet_paths("dialogs.tcss")
    KEYMAP = (keymap.PICKER,)
    BINDINGS = keymap.PICKER.bindings()

    def __init__(self, root: Path, title: str) -> None:
        super().__init__(classes="dialog")
        self.root = root
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box picker"):
            yield Label(self.title_text, classes="dialog-title")
            yield DirectoryTree(self.root, id="files")
            yield Label("enter: choose · escape: cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one(DirectoryTree).focus()

    @on(DirectoryTree.FileSelected)
    def _chosen(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(Path(event.path))

    def action_cancel(self) -> None:
        self.dismiss(None)


NEW_WITH_WIZARD = "wizard"


class XmlPickerDialog(ModalScreen["Path | str | None"]):
    """The files of XML/ (broken ones shown with their error, not selectable), or a new one by the wizard."""

    CSS_PATH = stylesheet_paths("dialogs.tcss")
    KEYMAP = (keymap.PICKER,)
    BINDINGS = keymap.PICKER.bindings()

    def __init__(self, entries: list, title: str) -> None:
        super().__init__(classes="dialog")
        self.entries = entries
        self.title_text = title

    def compose(self) -> ComposeResult:
        options = [Option("＋ new XML with the wizard", id=NEW_WITH_WIZARD)]
        for index, entry in enumerate(self.entries):
            error = getattr(entry, "error", None)
            label = f"{entry.path.name}" + (f"  ✗ {error}" if error else "")
            options.append(Option(label, id=str(index), disabled=error is not None))
        with Vertical(classes="dialog-box picker"):
            yield Label(self.title_text, classes="dialog-title")
            yield OptionList(*options, id="xml-files")
            yield Label("enter: choose · escape: cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        chosen = event.option.id
        assert chosen is not None  # every option is made with an id: an entry's index, or NEW_WITH_WIZARD
        if chosen == NEW_WITH_WIZARD:
            self.dismiss(NEW_WITH_WIZARD)
        else:
            self.dismiss(self.entries[int(chosen)].path)

    def action_cancel(self) -> None:
        self.dismiss(None)
