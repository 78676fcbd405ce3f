"""The console's screens: domains (home), wizard, XML editor, rftest2 bring-up, dialogs, help."""
