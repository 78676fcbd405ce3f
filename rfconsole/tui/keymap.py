"""Every key of the console, in one table: each screen's bindings, the key bar, the help and the
command palette are all made from it. A new key is one new line here (and its action method).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class Key:
    keys: str  # Textual's key names, comma-separated ("n", "slash", "escape,q")
    action: str  # the action it runs, with parameters when it has any ("finish(True, False)")
    label: str  # a word or two: the key bar and the palette's title
    help: str  # one sentence: the help screen and the palette's description
    display: str | None = None  # how the key is written when its name is not ("/" for slash)
    bar: str | None = None  # how the key bar writes it, when not as the help does ("1–4" for four keys)
    show: bool = True  # in the key bar
    priority: bool = False  # before the focused widget (a text field would take the key as text)
    palette: bool = True  # offered in the command palette while its screen is on top
    bound: bool = True  # False: only explained in the help (keys a widget handles itself)
    spare: bool = False  # the key bar leaves it out first when the width is short (the help lists it)
    changes: bool = False  # it changes a domain or a file: off in a read-only session (--read-only)

    @property
    def written(self) -> str:
        """The key as the help and the palette write it."""
        return self.display or self.keys.split(",")[0]

    def binding(self) -> Binding:
        return Binding(
            self.keys, self.action, self.label, show=self.show, key_display=self.bar or self.display, priority=self.priority,
            tooltip=self.help,
        )


@dataclass(frozen=True)
class Section:
    title: str
    keys: tuple[Key, ...]
    # its screen's main widget takes every key not bound with priority (the VM console sends them to
    # the guest): the key bar shows only priority keys there (F1 for help, ctrl+q to quit)
    takes_keys: bool = False

    def bindings(self) -> list[BindingType]:
        return [key.binding() for key in self.keys if key.bound]


APP = Section("Everywhere", (
    Key("a", "bring_up", "rftest2", "Bring up rftest2: choose XML for rfvmA–rfvmD and deploy all four (from the table)", changes=True),
    Key("question_mark", "help", "Help", "This help, this screen's keys first", display="?"),
    # '?' is text in a field (the wizard's, the XML editor's): F1 reaches the help from anywhere
    Key("f1", "help", "Help", "The help from any screen, also while typing in a field", display="F1", priority=True,
        palette=False),
    Key("t", "toggle_theme", "Theme", "Toggle the dark and the light theme", show=False),
    Key("q", "quit", "Quit", "Quit (asks first when a screen holds unsaved work)"),
    Key("ctrl+q", "quit", "Quit", "Quit from anywhere, also while typing (asks first when there is unsaved work)",
        display="ctrl+q", priority=True, show=False, palette=False),
    Key("ctrl+p", "command_palette", "Palette", "Command palette: every action of this screen by name", display="ctrl+p",
        bound=False, palette=False),
))

DOMAINS = Section("Domains (home)", (
    Key("n", "new", "New", "New VM through the wizard", changes=True),
    Key("e", "edit", "Edit", "Edit the selected domain's XML (XML/<name>.xml), checked as you type", changes=True),
    Key("x", "xml", "XML", "Show the selected domain's XML, highlighted, with a diff against libvirt's live definition", spare=True),
    Key("s", "start", "Start", "Start the selected domain(s); one only in XML/ is defined first", changes=True),
    Key("h", "shutdown", "Shutdown", "Shut down the selected domain(s) (ACPI, the guest decides)", changes=True),
    Key("d", "destroy", "Destroy", "Destroy (power off) the selected domain(s), after confirmation", changes=True),
    Key("u", "undefine", "Undefine", "Undefine the selected domain(s), after confirmation", changes=True),
    Key("f", "define", "Define", "Define the selected domain from XML/<name>.xml", spare=True, changes=True),
    Key("F", "define_file", "Define file", "Define any XML file, picked under the working folder (what `virsh define FILE` does)",
        show=False, changes=True),
    Key("r", "redeploy", "Redeploy", "Redeploy: destroy, undefine, define from XML/ and start, after confirmation", changes=True),
    Key("p", "pause", "Pause", "Pause a running domain, resume a paused one", spare=True, changes=True),
    Key("R", "reboot", "Reboot", "Reboot the selected domain(s) (ACPI: the guest reboots itself)", show=False, changes=True),
    Key("P", "power_cycle", "Power-cycle", "Power-cycle (hard reset, libvirt's virDomainReset) the selected running domain(s), after confirmation",
        show=False, changes=True),
    Key("A", "autostart", "Autostart", "Turn autostart (start with the host) on or off for the selected domain(s)", show=False, changes=True),
    Key("z", "snapshot", "Snapshot", "Take a snapshot of the selected domain(s): disks, and memory when running", spare=True, changes=True),
    Key("b", "reset", "Reset", "Reset the selected domain(s) to their snapshot or a fresh overlay of their base, after confirmation", spare=True, changes=True),
    Key("l", "snapshots", "Snapshots", "The selected domain's snapshots: revert to one, delete one, take one", spare=True),
    Key("c", "clone", "Clone", "Clone the selected domain under a new name (new id, MACs, NIC names, its own overlay)", spare=True, changes=True),
    Key("M", "migrate", "Migrate", "Move the selected VM to another host (live when it runs: rfconsole migrate), choosing the host", show=False, changes=True),
    Key("m", "lab_map", "Map", "The lab map: each switch (connected, since when, how), its VMs, their NICs, bridges, ports and counters",
        show=False),
    Key("E", "events", "Events", "The lab's event timeline (events.jsonl), newest last, followed live, filtered by VM or kind",
        show=False),
    Key("i", "details", "Details", "Details of the selected VM: state, resources over time, NICs and switch ports, IPs, disks, events"),
    Key("v", "console", "Console", "Open the selected VM's own console (its serial port, or LXC's console) in rfconsole", changes=True),
    # priority: the keys typed right after it (a paste, a fast typist) must find the filter already
    # focused, not reach the table's bindings while the focus moves one message later
    Key("slash", "filter", "Filter", "Filter the table by name, host, hypervisor, state or image", display="/",
        priority=True),
    Key("escape", "clear_filter", "Clear filter", "Clear the filter, or else the selection", show=False, palette=False),
))

TABLE = Section("Table", (
    Key("space", "toggle_mark", "Select", "Select or unselect the row (bulk actions apply to every selected domain)", show=False),
    Key("asterisk", "mark_all", "Select all", "Select every shown row, or clear the selection", display="*", show=False),
    Key("o", "next_sort", "Sort", "Sort by the next column (name, host, hypervisor, state, CPU %, memory)", show=False),
    Key("up,down,pageup,pagedown,home,end", "", "Move", "Move in the table", display="up/down, pgup/pgdn, home/end",
        bound=False, palette=False),
))

WIZARD = Section("Wizard", (
    # priority: the fields (Input, TextArea) must not swallow the wizard's own keys
    Key("ctrl+n", "next", "Next", "Check this step and go to the next", priority=True),
    Key("ctrl+b", "back", "Back", "Go back one step (what was typed is kept)", priority=True),
    Key("escape", "leave", "Leave", "Leave the wizard (asks first when fields were filled in)"),
    Key("ctrl+s", "finish(False, False)", "Save", "On the review step: save to XML/", priority=True, changes=True),
    Key("ctrl+d", "finish(True, False)", "Save+define", "On the review step: save and define on the host", priority=True, changes=True),
    Key("ctrl+t", "finish(True, True)", "Save+define+start", "On the review step: save, define and start", priority=True, changes=True),
    Key("tab,shift+tab", "", "Fields", "Move between fields", display="tab / shift+tab", bound=False, palette=False),
))

EDITOR = Section("XML view and editor", (
    Key("ctrl+s", "save", "Save", "Save (atomic, the previous file kept as a backup); refused while the XML has errors",
        priority=True, changes=True),
    Key("ctrl+d", "diff", "Diff vs libvirt", "Diff of the file in XML/ against libvirt's live definition", priority=True),
    # priority: the text area would take the first escape only to let go of the focus
    Key("escape", "close", "Close", "Close (with unsaved changes: asks first)", priority=True),
))

BRINGUP = Section("rftest2 bring-up", (
    *(
        Key(str(number), f"choose('{slot}')", "Choose XML" if number == 1 else f"XML for {slot}",
            f"Choose the XML of {slot} (from XML/, or a new one with the wizard)", show=number == 1,
            bar="1–4" if number == 1 else None)
        for number, slot in enumerate(("rfvmA", "rfvmB", "rfvmC", "rfvmD"), start=1)
    ),
    Key("ctrl+r", "deploy", "Deploy all", "Deploy all four (asks first): destroy, undefine, define, start each, with progress and result", changes=True),
    Key("r", "reasons", "Why failed", "The whole reason of each VM whose deploy failed: libvirt's message and what to do"),
    Key("escape", "close", "Back", "Back to the table"),
))

CONFIRM = Section("Confirmation", (
    Key("y", "answer(True)", "Yes", "Yes: do it"),
    Key("n,escape", "answer(False)", "No", "No: nothing is done (the focus starts on No)"),
))

SNAPSHOTS = Section("Snapshots of a domain", (
    Key("n", "take", "Take", "Take a snapshot now (disks, and memory when the domain runs)", changes=True),
    Key("r", "revert", "Revert", "Revert to the snapshot under the cursor, after a confirmation naming what is lost", changes=True),
    Key("d", "delete", "Delete", "Delete the snapshot under the cursor, after confirmation", changes=True),
    Key("escape", "close", "Back", "Back to the table"),
))

CLONE = Section("Clone", (
    Key("escape", "cancel", "Cancel", "Close without cloning (enter clones)"),
))

MIGRATE = Section("Migrate", (
    Key("escape", "cancel", "Cancel", "Close without migrating (a host's button migrates)"),
))

PICKER = Section("File and XML pickers", (
    Key("escape", "cancel", "Cancel", "Close the picker, choosing nothing (enter chooses)"),
))

CONSOLE = Section("VM console", (
    # priority: the terminal takes every other key for the guest
    Key("ctrl+right_square_bracket", "back", "Table", "Back to the table; the console stays open (v on its row returns)",
        display="ctrl+]", priority=True),
    Key("f3", "next_console", "Next console", "Go to the next open console (several can be open)", display="F3", priority=True),
    Key("shift+pageup", "scroll(-1)", "Scroll back", "Scroll back in the console's history (typing returns to the bottom)",
        display="shift+pgup", priority=True),
    Key("shift+pagedown", "scroll(1)", "Scroll on", "Scroll forward in the console's history", display="shift+pgdn",
        priority=True, show=False),
    Key("f2", "copy", "Copy", "Copy the lines shown to the clipboard (OSC 52: the terminal must allow it)", display="F2",
        priority=True),
    Key("f10", "close_console", "Close", "Detach for good and close this console (the domain keeps running)",
        display="F10", priority=True),
), takes_keys=True)

DETAILS = Section("VM details", (
    Key("escape,q", "close", "Back", "Back to the table", display="escape"),
    Key("ctrl+r", "refresh", "Refresh", "Read everything again now (it also refreshes at each event and stats interval)"),
))

LABMAP = Section("Lab map", (
    Key("escape,q", "close", "Back", "Back to the table", display="escape"),
    Key("ctrl+r", "refresh", "Refresh", "Read everything again now (it also follows the timeline, libvirt's events and the counters each second)"),
))

EVENTS = Section("Events", (
    # priority: the keys typed right after it must find the filter already focused
    Key("slash", "filter", "Filter", "Filter by VM, switch or host: the words typed, in its name (a switch's VMs count)", display="/",
        priority=True),
    Key("k", "next_kind", "Kind", "Show one kind of event, the next at each press: domain, host, switch, boot, operation, watch, all"),
    # priority: the list would take it for its own scroll to the bottom, which does not follow
    Key("end", "newest", "Newest", "Go to the newest event and follow the new ones again (moving up stops following)",
        priority=True),
    Key("escape,q", "back", "Back", "Clear the filter, or else back to the table", display="escape"),
    Key("up,down,pageup,pagedown,home", "", "Move", "Move in the list", display="up/down, pgup/pgdn, home",
        bound=False, palette=False),
))

HELP = Section("Help", (
    Key("escape,q,question_mark", "close", "Close", "Close the help", display="escape, q, ?"),
))

SECTIONS: tuple[Section, ...] = (DOMAINS, TABLE, WIZARD, EDITOR, BRINGUP, SNAPSHOTS, CONFIRM, CLONE, MIGRATE, PICKER, CONSOLE, DETAILS, LABMAP, EVENTS, HELP, APP)

# The key bar's own order of leaving keys out when short of width: the spare ones first.
SPARE_ACTIONS = frozenset(key.action for section in SECTIONS for key in section.keys if key.spare)
# The actions that change a domain or a file (by name: no action name both changes and not, a test says).
CHANGING_ACTIONS = frozenset(key.action.split("(")[0] for section in SECTIONS for key in section.keys if key.changes)
# Always in the key bar, last: the way to every other key.
PINNED_ACTIONS = frozenset({"help", "quit", "command_palette"})
