"""Issue 18: the wizard's fields come from the field table (model/fields.py). A row added to a copy
of the table with a wizard ``step`` is asked for on that step, in the row's words, its rule's
problem shown beside it, and what is typed there reaches the spec, the Review's XML and the file
the wizard saves; nothing of the wizard is edited."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Label, Select, TextArea

from rfconsole.model import fields, rules
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.fields import Binding, Flag
from rfconsole.tui.screens.domains import DomainsScreen
from tests.tui.conftest import wait_until
from tests.tui.test_wizard import answered, error_of, next_until, open_wizard, step_id
from tests.unit.model.tables import use_rows

DESCRIPTION = Binding(
    "description", "description", "text", "a line about the VM", rule="description_text", clearable=True,
    flag=Flag("--description", "TEXT", "a line about the VM (libvirt's <description>)"),
)


def description_text(value: Any, lenient: bool) -> Any:
    return rules.text_or_none(value, "the description")


@pytest.fixture
def description_on(request, monkeypatch) -> str:
    """The table with a <description> row asked for on the step ``request.param``."""
    monkeypatch.setattr(rules, "description_text", description_text, raising=False)
    use_rows(monkeypatch, domain_rows=(*fields.DOMAIN_ROWS, replace(DESCRIPTION, step=request.param)))
    return request.param


# identity: a step of table fields only; storage: one drawn by hand around its image picker
@pytest.mark.parametrize("description_on", ["identity", "storage"], indirect=True)
async def test_a_row_added_to_the_table_is_asked_for_on_its_step_and_saved(description_on: str, app, workdir: Path) -> None:
    step = description_on
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, step)
        row = wizard.query_one("#row-description")
        assert wizard.query_one(f"#pane-{step}") in row.ancestors and row.display
        assert str(row.query_one(".field-label", Label).render()) == "A line about the VM"
        wizard.query_one("#f-description", Input).value = "lab\x01router"
        await pilot.press("ctrl+n")
        await answered(pilot, wizard)
        assert step_id(wizard) == step and "the description" in error_of(wizard, "description")  # the row's rule, beside it
        wizard.query_one("#f-description", Input).value = "lab router"
        await next_until(pilot, wizard, "review")
        assert "<description>lab router</description>" in wizard.query_one("#review-xml", TextArea).text
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), "back on the table", timeout=10)
    saved = DomainDocument.read(workdir / "XML" / "rfvmA.xml")
    assert saved.root.findtext("description") == "lab router"
    assert saved.spec().description == "lab router"


class CrashAction(Enum):
    DESTROY = "destroy"
    RESTART = "restart"
    PRESERVE = "preserve"


ON_CRASH = Binding("on_crash", "on_crash", "text", "on a crash", kind=CrashAction, default=CrashAction.RESTART, step="resources")


async def test_a_row_of_an_enum_is_offered_as_a_choice_with_its_default_chosen(monkeypatch, app) -> None:
    """A row's kind and default make its field: libvirt's <on_crash> as a row of an enum with a default."""
    use_rows(monkeypatch, domain_rows=(*fields.DOMAIN_ROWS, ON_CRASH))
    async with app.run_test(size=(120, 40)) as pilot:
        wizard = await open_wizard(pilot)
        await next_until(pilot, wizard, "resources")
        choice = wizard.query_one("#f-on_crash", Select)
        assert [value for _words, value in choice._options] == ["destroy", "restart", "preserve"]  # no blank: it has a default
        assert choice.value == "restart" and wizard.build_spec().on_crash is CrashAction.RESTART
        choice.value = "preserve"
        await next_until(pilot, wizard, "review")
        assert "<on_crash>preserve</on_crash>" in wizard.query_one("#review-xml", TextArea).text
