"""Work off the UI thread, its failure reported in one place.

Every call into libvirt, XML/ or Images/ from the console runs in a thread worker: ``in_background``
runs ``job`` there, hands its result to ``done`` on the UI thread, and a failure of any kind to
``failed`` (or, by default, to a notification naming what was being done): the console never stops
on an error and no screen writes its own catch-all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from textual.dom import DOMNode
from textual.worker import Worker

Result = TypeVar("Result")


class _Reports(Protocol):
    def report(self, error: BaseException, doing: str = "") -> None: ...


def in_background(
    node: DOMNode,
    doing: str,
    job: Callable[[], Result],
    done: Callable[[Result], Any] | None = None,
    failed: Callable[[BaseException], Any] | None = None,
    *,
    group: str = "operations",
    exclusive: bool = False,
) -> Worker[None]:
    """Run ``job`` in a thread worker of ``node`` (its screen, so it ends with it); ``doing`` names it
    in a notification of its failure ("start rfvmA on local")."""
    app = node.app

    def body() -> None:
        try:
            result = job()
        except Exception as error:  # noqa: BLE001 - the one place a worker's failure becomes words, never a crash
            app.call_from_thread(failed or (lambda problem: cast(_Reports, app).report(problem, doing)), error)
            return
        if done is not None:
            app.call_from_thread(done, result)

    return node.run_worker(body, thread=True, group=group, exclusive=exclusive, exit_on_error=False, name=doing)
