"""The home screen: every domain on every host, live from libvirt's events, with bulk lifecycle actions."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from textual import events, on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Header, Input, Label, ProgressBar

from rfconsole.tui import fleetview, keymap
from rfconsole.tui.background import in_background
from rfconsole.tui.context import console_app, opened
from rfconsole.tui.widgets.domaintable import DomainTable
from rfconsole.tui.widgets.hostline import HostLine
from rfconsole.tui.widgets.keybar import KeyBar
from rfconsole.virt.events import DomainEvent, DomainStatus, HostEvent, Outcome

# the keys that need no fleet: they work while the console is still opening it (the others are shown disabled)
WITHOUT_FLEET = frozenset({"filter", "clear_filter", "toggle_mark", "mark_all", "next_sort"})
READING = "reading the hosts…"


class DomainsScreen(Screen):
    KEYMAP = (keymap.DOMAINS, keymap.TABLE)
    BINDINGS = keymap.DOMAINS.bindings() + keymap.TABLE.bindings()

    def __init__(self) -> None:
        super().__init__()
        self.busy = 0  # operations running: the progress bar shows while any is
        self.host_problems: set[str] = set()  # names of the unreachable hosts already told
        self.read_once = False  # a poll's result has been shown: until then the status line says so

    def compose(self) -> ComposeResult:
        yield Header()
        yield HostLine()  # each host's state and URI, always in view
        yield Input(placeholder="filter: name, host, hypervisor, state, image", id="filter")
        # the mark and the Name stay in place while the other columns scroll (at 80 columns they do)
        yield DomainTable(id="domains", cursor_type="row", zebra_stripes=True, fixed_columns=2)
        with Horizontal(id="progress-bar"):
            yield Label("", id="progress-label")
            yield ProgressBar(id="progress", show_eta=False)
        yield Label(READING, id="status-line")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.table
        self.query_one("#filter").display = False
        self.query_one("#progress-bar").display = False
        table.focus()
        console_app(self).fleet_events.subscribe(self, self._fleet_event)
        console_app(self).switch_events.subscribe(self, lambda _event: self.table.redraw_switches())
        if console_app(self).context is None:  # the app opens it after the first frame
            console_app(self).context_ready.subscribe(self, lambda _context: self._start_reading())
        else:
            self._start_reading()

    def _start_reading(self) -> None:
        self.refresh_bindings()
        self.refresh_statuses()
        poll_seconds = console_app(self).poll_seconds
        if poll_seconds:
            self.set_interval(poll_seconds, self.refresh_statuses)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if console_app(self).context is None and action not in WITHOUT_FLEET:
            return None  # shown, disabled, until the fleet is open
        return True

    # ---- data in ---------------------------------------------------------------------------

    def refresh_statuses(self) -> None:
        def read() -> tuple[list[DomainStatus], dict[str, str], dict[str, Any]]:
            statuses, problems = fleetview.statuses_and_problems(opened(self))
            return statuses, fleetview.images_by_name(opened(self)), problems

        in_background(self, "reading the hosts", read, lambda found: self._apply_poll(*found), self._poll_failed,
                      group="poll", exclusive=True)

    def _poll_failed(self, error: BaseException) -> None:  # a host going away is a notification
        console_app(self).report(error, "reading the hosts")
        if not self.read_once:
            again = " (read again at the next poll)" if console_app(self).poll_seconds else ""
            self.query_one("#status-line", Label).update(f"the hosts could not be read: the notice says why{again}")

    @property
    def table(self) -> DomainTable:
        return self.query_one(DomainTable)

    def _apply_poll(self, statuses: list[DomainStatus], images: dict[str, str], problems: dict[str, Any]) -> None:
        self.table.images = images
        self.read_once = True
        self.query_one(HostLine).read()  # the poll has just connected or failed each host
        self.table.apply_statuses(statuses, complete=True)
        # each unreachable host is told once, not at every poll, until it answers again
        for host, problem in problems.items():
            if host not in self.host_problems:
                if isinstance(problem, BaseException):
                    console_app(self).report(problem, f"host {host} cannot be reached")
                else:
                    self.notify(str(problem), title=f"host {host} cannot be reached", severity="error", timeout=8)
        self.host_problems = set(problems)

    def _fleet_event(self, event: DomainEvent | HostEvent) -> None:
        """A host came or went: read every host again. One domain's event: re-read that domain only
        and change its row in place."""
        if isinstance(event, HostEvent):
            self.refresh_statuses()
        else:
            self.refresh_one(event)

    def refresh_one(self, event: DomainEvent) -> None:
        self.refresh_domains([(event.domain, event.host)])

    def on_screen_resume(self) -> None:
        """Back from a screen that may have written XML/ (the editor, the wizard): the images again."""
        if console_app(self).context is not None and self.read_once:
            self.refresh_images()

    def refresh_images(self) -> None:
        """A file in XML/ was written (the wizard, the editor, undefine): its row's Image cell now."""
        in_background(self, "reading XML/", lambda: fleetview.images_by_name(opened(self)), self.table.set_images,
                      group="images", exclusive=True)

    def refresh_domains(self, domains: list[tuple[str, str]]) -> None:
        """Re-read these (name, host) domains only, and their files' images; rows of the ones gone are dropped."""
        self.refresh_images()
        for name, host in domains:
            in_background(self, f"reading {name} on {host}", partial(fleetview.status_of, opened(self), name, host),
                          partial(self._apply_status, f"{host}/{name}"), group="event")

    def _apply_status(self, key: str, status: DomainStatus | None) -> None:
        if status is None:
            self.table.forget(key)
        else:
            self.table.apply_statuses([status], False)

    def point_at(self, name: str, host: str) -> None:
        """Put the cursor on this domain's row, now or as soon as it appears (after a wizard)."""
        self.table.point_at(f"{host}/{name}")
        self.refresh_domains([(name, host)])

    # ---- the status line -------------------------------------------------------------------

    def on_domain_table_changed(self, _message: DomainTable.Changed) -> None:
        self._update_status_line()

    def _update_status_line(self) -> None:
        if not self.read_once:
            return  # it says READING (or why the hosts could not be read) until a poll's result is shown
        table = self.table
        count = len(table.domains)
        parts = [f"{count} domain{'' if count == 1 else 's'}, {table.running} running"]
        if self.query_one("#filter", Input).has_focus:  # letters are the filter's now, not keys
            typed = f" '{table.filter_text}'" if table.filter_text else ""
            parts.append(f"filtering{typed} (enter: to the table)" + (f": {table.row_count} shown" if table.filter_text else ""))
        elif table.filter_text:
            parts.append(f"filter '{table.filter_text}': {table.row_count} shown")
        if table.marked:
            parts.append(f"{len(table.marked)} selected")
        parts.append(f"sorted by {table.sort_by}")
        self.query_one("#status-line", Label).update(" · ".join(parts))

    # ---- selection and sort (keymap.TABLE: the screen's keys, the table's work) ------------

    def targets(self) -> list[DomainStatus]:
        """The marked domains, or else the one under the cursor."""
        return self.table.targets()

    def action_toggle_mark(self) -> None:
        self.table.toggle_mark()

    def action_mark_all(self) -> None:
        self.table.mark_all()

    def action_next_sort(self) -> None:
        self.notify(f"sorted by {self.table.next_sort()}", timeout=2)

    # ---- filter ----------------------------------------------------------------------------

    def action_filter(self) -> None:
        """Bound with priority, so it runs before the keys queued behind it are handed to the
        focused widget: the focus moves now (``focus()`` would move it one message later, after
        those keys had reached the table's bindings). A '/' typed in the filter is text there."""
        box = self.query_one("#filter", Input)
        if box.has_focus:
            raise SkipAction()
        box.display = True
        self.set_focus(box)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.filter_by(event.value)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id == "filter":
            self._update_status_line()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if event.widget.id == "filter":
            self._update_status_line()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.table.focus()
        else:
            self.table.clear_marks()

    # ---- actions ---------------------------------------------------------------------------

    def _one_target(self, doing: str) -> DomainStatus | None:
        targets = self.targets()
        if not targets:
            self.notify(f"no domain selected to {doing}", severity="warning")
            return None
        return targets[0]

    def action_new(self) -> None:
        from rfconsole.tui.screens.wizard import WizardResult, WizardScreen

        def made(result: WizardResult | None) -> None:
            if result is not None and result.host is not None:
                self.point_at(result.name, result.host)

        self.app.push_screen(WizardScreen(), made)

    def action_edit(self) -> None:
        target = self._one_target("edit")
        if target is not None:
            from rfconsole.tui.screens.xmleditor import XmlScreen

            self.app.push_screen(XmlScreen(target.name, host=target.host, editable=True))

    def action_xml(self) -> None:
        target = self._one_target("show")
        if target is not None:
            from rfconsole.tui.screens.xmleditor import XmlScreen

            self.app.push_screen(XmlScreen(target.name, host=target.host, editable=False))

    def action_details(self) -> None:
        target = self._one_target("show the details of")
        if target is not None:
            from rfconsole.tui.screens.vmdetails import VmDetailsScreen

            self.app.push_screen(VmDetailsScreen(target.name, target.host))

    def action_lab_map(self) -> None:
        from rfconsole.tui.screens.labmap import LabMapScreen

        self.app.push_screen(LabMapScreen())

    def action_events(self) -> None:
        from rfconsole.tui.screens.events import EventsScreen

        self.app.push_screen(EventsScreen())

    def action_console(self) -> None:
        target = self._one_target("open the console of")
        if target is not None:
            from rfconsole.tui.screens.vmconsole import show_console

            show_console(self.app, target.name, target.host)

    def action_start(self) -> None:
        self._lifecycle("start")

    def action_shutdown(self) -> None:
        self._lifecycle("shutdown")

    def action_destroy(self) -> None:
        self._lifecycle("destroy", confirm=True)

    def action_undefine(self) -> None:
        self._lifecycle("undefine", confirm=True)

    def action_define(self) -> None:
        self._lifecycle("define")

    def action_reboot(self) -> None:
        self._lifecycle("reboot")

    def action_power_cycle(self) -> None:
        self._lifecycle("power_cycle", confirm=True)

    def action_autostart(self) -> None:
        self._lifecycle("autostart")

    def action_define_file(self) -> None:
        """Pick any XML file under the working folder and define it (what `virsh define FILE` does)."""
        from rfconsole.tui.screens.dialogs import FilePickerDialog

        context = opened(self)
        root = context.workdir.xml_dir if context.workdir.xml_dir.is_dir() else context.workdir.root

        def chosen(path: Path | None) -> None:
            if path is not None:
                console_app(self).run_in_background(f"defining {path.name}", lambda: fleetview.define_file(context, path), self._file_defined)

        self.app.push_screen(FilePickerDialog(root, "Define an XML file"), chosen)

    def _file_defined(self, result: tuple[str, str, str]) -> None:
        name, host, said = result
        self.notify(f"{name}: {said}", timeout=4)
        self.point_at(name, host)

    def action_redeploy(self) -> None:
        self._lifecycle("redeploy", confirm=True)

    def action_pause(self) -> None:
        self._lifecycle("pause")

    def action_snapshot(self) -> None:
        self._lifecycle("snapshot")

    def action_reset(self) -> None:
        self._lifecycle("reset", confirm=True)

    def action_snapshots(self) -> None:
        target = self._one_target("list the snapshots of")
        if target is not None:
            from rfconsole.tui.screens.snapshots import SnapshotsScreen

            self.app.push_screen(SnapshotsScreen(target.name, target.host))

    def action_clone(self) -> None:
        target = self._one_target("clone")
        if target is not None:
            from rfconsole.tui.screens.clone import ask_clone

            ask_clone(self, target)

    def action_migrate(self) -> None:
        target = self._one_target("migrate")
        if target is not None:
            from rfconsole.tui.screens.migrate import ask_migrate

            ask_migrate(self, target)

    def _lifecycle(self, operation: str, confirm: bool = False) -> None:
        targets = self.targets()
        if not targets:
            self.notify(f"no domain selected to {operation}", severity="warning")
            return
        # one rule for every key, one row or many: the domains it has nothing to do on are skipped,
        # and one notice says which and why (never libvirt's refusal of each)
        idle = {fleetview.row_key(t): why for t in targets if (why := fleetview.needs_nothing(operation, t))}
        if idle:
            whys = list(idle.values())
            heading = f"{len(idle)} of {len(targets)} skipped:\n" if len(targets) > 1 else ""
            more = f"\n… and {len(whys) - 4} more" if len(whys) > 4 else ""
            self.notify(heading + "\n".join(whys[:4]) + more, severity="warning")
        targets = [t for t in targets if fleetview.row_key(t) not in idle]
        if not targets:
            return
        if not confirm:
            self._run_operation(operation, targets)
            return
        from rfconsole.tui.screens.dialogs import ConfirmDialog

        named = ", ".join(f"{t.name} on host {t.host}" for t in targets[:4])
        if len(targets) > 4:
            named += f" and {len(targets) - 4} more"
        question = f"{fleetview.OPERATION_WORDS[operation].capitalize()} {named}?"

        def answered(yes: bool | None) -> None:
            if yes:
                self._run_operation(operation, targets)

        warning = fleetview.OPERATION_WARNINGS.get(operation, "")
        running = [t.name for t in targets if fleetview.state_label(t) in ("running", "paused", "in shutdown", "blocked")]
        if operation == "undefine" and running:
            warning += (f" {', '.join(running[:4])}{' …' if len(running) > 4 else ''} keeps running as a transient domain "
                        "until it is shut down or destroyed (d), then is gone from the host.")
        self.app.push_screen(ConfirmDialog(question, warning), answered)

    def _run_operation(self, operation: str, targets: list[DomainStatus]) -> None:
        if len(targets) == 1:
            self._run_single(operation, targets[0])
            return
        self._run_bulk(operation, targets)

    def _run_single(self, operation: str, target: DomainStatus) -> None:
        doing = f"{fleetview.operation_word(operation, target)} {target.name} on {target.host}"
        self._show_progress(f"{doing}…", None)

        def done(said: Outcome) -> None:
            self._hide_progress()
            self._after_operation(operation, [target], [], said)

        def failed(error: BaseException) -> None:  # libvirt's message as a notification
            self._hide_progress()
            console_app(self).report(error, doing)
            self.refresh_domains([(target.name, target.host)])

        in_background(self, doing, partial(fleetview.run_operation, opened(self), operation, target), done, failed)

    def _run_bulk(self, operation: str, targets: list[DomainStatus]) -> None:
        self._show_progress(f"{operation} ×{len(targets)}", len(targets))

        def progress(done: int, _total: int, _name: str) -> None:
            self.app.call_from_thread(self._advance_progress, done)

        def finished(failures: list[tuple[DomainStatus, BaseException]]) -> None:
            self._hide_progress()
            for target, error in failures:
                console_app(self).report(error, f"{fleetview.operation_word(operation, target)} {target.name} on {target.host}")
            failed = [target for target, _ in failures]
            self._after_operation(operation, [target for target in targets if target not in failed], failed, None)

        def failed(error: BaseException) -> None:
            self._hide_progress()
            console_app(self).report(error, f"{operation} ×{len(targets)}")
            self.refresh_domains([(target.name, target.host) for target in targets])

        in_background(self, f"{operation} ×{len(targets)}", partial(fleetview.run_many, opened(self), operation, targets, progress),
                      finished, failed)

    def _after_operation(self, operation: str, done: list[DomainStatus], failed: list[DomainStatus], said: Outcome | None) -> None:
        """The summary names only the domains the operation succeeded on, each with its own verb."""
        by_word: dict[str, list[str]] = {}
        for target in done:
            by_word.setdefault(fleetview.operation_word(operation, target), []).append(target.name)
        parts = [f"{word}: " + ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
                 for word, names in by_word.items()]
        if len(done) == 1 and said:
            parts = [f"{done[0].name}: {said}"]  # what Fleet said, e.g. "rfvmA: running on host demo"
        if failed:
            parts.append(f"{len(failed)} failed: " + ", ".join(t.name for t in failed[:4]) + (" …" if len(failed) > 4 else ""))
        self.notify("\n".join(parts), severity="warning" if failed else "information", timeout=6 if failed else 3)
        self.refresh_domains([(t.name, t.host) for t in done + failed])

    def _show_progress(self, label: str, total: int | None) -> None:
        """A bar under the table: counting domains for a bulk action, indeterminate for one."""
        self.busy += 1
        self.query_one("#progress-label", Label).update(label)
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=total, progress=0)
        self.query_one("#progress-bar").display = True

    def _advance_progress(self, done: int) -> None:
        self.query_one("#progress", ProgressBar).update(progress=done)

    def _hide_progress(self) -> None:
        self.busy = max(0, self.busy - 1)
        if not self.busy:
            self.query_one("#progress-bar").display = False
