"""Every key of the console and what it does: the footer, the help screen and the palette read this."""

from __future__ import annotations

ACTIONS: dict[str, str] = {
    "n": "New VM through the wizard",
    "e": "Edit the selected domain's XML (XML/<name>.xml), checked as you type",
    "x": "Show the selected domain's XML, highlighted, with a diff against libvirt's live definition",
    "s": "Start the selected domain(s)",
    "h": "Shut down the selected domain(s) (ACPI, the guest decides)",
    "d": "Destroy (power off) the selected domain(s), after confirmation",
    "u": "Undefine the selected domain(s), after confirmation",
    "f": "Define the selected domain from XML/<name>.xml",
    "r": "Redeploy: destroy, undefine, define from XML/ and start, after confirmation",
    "p": "Pause a running domain, resume a paused one",
    "a": "Bring up rftest2: choose XML for rfvmA–rfvmD and deploy all four",
    "/": "Filter the table by name, host, hypervisor, state or image",
    "?": "This help, this screen's keys first (F1 too, also while typing in a field)",
    "q": "Quit",
}

TABLE_KEYS: dict[str, str] = {
    "space": "Select or unselect the row (bulk actions apply to every selected domain)",
    "*": "Select every shown row, or clear the selection",
    "o": "Sort by the next column (name, host, hypervisor, state, CPU %, memory)",
    "escape": "Clear the filter, or else the selection",
    "t": "Toggle the dark and the light theme",
    "ctrl+p": "Command palette: every action by name",
    "up/down, pgup/pgdn, home/end": "Move in the table",
}

WIZARD_KEYS: dict[str, str] = {
    "ctrl+n / Next": "Check this step and go to the next",
    "ctrl+s / ctrl+d / ctrl+t": "On the review step: save; save and define; save, define and start",
    "ctrl+b / Back": "Go back one step",
    "tab / shift+tab": "Move between fields",
    "escape": "Leave the wizard (nothing is saved)",
}

EDITOR_KEYS: dict[str, str] = {
    "ctrl+s": "Save (atomic, the previous file kept as a backup); refused while the XML has errors",
    "ctrl+d": "Diff of the file in XML/ against libvirt's live definition",
    "escape": "Close (with unsaved changes: warns first, escape again drops them)",
}

BRINGUP_KEYS: dict[str, str] = {
    "1 2 3 4": "Choose the XML of rfvmA, rfvmB, rfvmC, rfvmD (from XML/, or a new one with the wizard)",
    "ctrl+r": "Deploy all four (asks first): destroy, undefine, define, start each, with progress and result",
    "escape": "Back to the table",
}
