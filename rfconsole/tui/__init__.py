"""The Textual console: renders the fleet and dispatches the user's keys to rfconsole.virt/model/store."""
