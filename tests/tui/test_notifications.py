"""Issue 17 item 4: notifications never cover the key bar, however many stack up."""

from __future__ import annotations

import pytest
from textual.widgets._toast import Toast

from tests.tui.conftest import wait_until
from tests.tui.test_domains import loaded


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_many_notifications_stack_above_the_key_bar_never_over_it(app, size) -> None:
    async with app.run_test(size=size, notifications=True) as pilot:
        await loaded(pilot)
        for number in range(8):
            app.notify(f"cannot start rfvm{number} on host local\nhint: line two\nline three", title=f"notice {number}",
                       severity="error", timeout=60)
        await wait_until(pilot, lambda: len(app.screen.query(Toast)) == 8, "eight notifications")
        await pilot.pause(0.2)
        covered = []
        for widget in (app.screen.query_one("KeyBar"), app.screen.query_one("#status-line")):
            region = widget.region
            for y in range(region.y, region.bottom):
                for x in range(region.x, region.right):
                    top, _ = app.screen.get_widget_at(x, y)  # what is drawn there, on top
                    if top is not widget:
                        covered.append((x, y, top))
        assert not covered, (size, covered[:3])
        assert any(toast.region.y < size[1] for toast in app.screen.query(Toast))  # toasts are shown
