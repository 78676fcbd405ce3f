"""run_many: one operation on several VMs at once, each with its own result, in the given order."""

from __future__ import annotations

import threading

from rfconsole.virt.events import DomainState
from tests.unit.virt.conftest import RFTEST2


def test_runs_concurrently(demo):
    # four workers must all be inside the operation at the same time for the barrier to open
    barrier = threading.Barrier(len(RFTEST2), timeout=5)

    def meet_then_start(name: str) -> str:
        barrier.wait()
        return demo.start(name)

    results = demo.run_many(meet_then_start, RFTEST2)
    assert [r.name for r in results] == list(RFTEST2)
    assert all(r.ok for r in results), [r.message for r in results]
    assert all(s.state is DomainState.RUNNING for s in demo.statuses())


def test_each_vm_has_its_result_and_progress_counts(demo):
    seen = []
    results = demo.run_many("up", ["rfvmA", "nosuch", "rfvmB"], progress=lambda r, done, total: seen.append((r.name, done, total)))
    by_name = {r.name: r for r in results}
    assert by_name["rfvmA"].ok and by_name["rfvmB"].ok
    failed = by_name["nosuch"]
    assert not failed.ok and "no VM named 'nosuch'" in failed.message and failed.hint
    assert sorted(done for _, done, _ in seen) == [1, 2, 3] and {total for *_, total in seen} == {3}
    assert all(r.elapsed >= 0 and r.operation == "up" for r in results)


def test_options_reach_the_operation(demo):
    demo.run_many("start", ["rfvmA", "rfvmB"])
    results = demo.run_many("down", ["rfvmA", "rfvmB"], timeout=5, destroy_after=False)
    assert all(r.ok and r.message == "shut off on host demo" for r in results)


def test_bring_up_rftest2_redeploys_each_slot_with_stages(demo, store):
    from tests.unit.virt.conftest import save_preset

    for slot in RFTEST2:
        save_preset(store, slot)
    demo.start("rfvmA")
    stages: dict[str, list[str]] = {}
    lock = threading.Lock()

    def progress(slot, stage, done):
        with lock:
            stages.setdefault(slot, []).append(f"{done}:{stage}")

    chosen = {slot: store.path_for(slot) for slot in RFTEST2[:3]} | {"rfvmD": None}
    results = demo.bring_up_rftest2(chosen, progress)
    assert results["rfvmA"] == results["rfvmB"] == "running on host demo"
    assert stages["rfvmA"] == ["0:destroy", "1:undefine", "2:define", "3:start"]
    assert stages["rfvmB"] == ["0:undefine", "1:define", "2:start"]
    assert "no XML chosen" in results["rfvmD"].message
    assert demo.status("rfvmD").state is DomainState.SHUTOFF


def test_the_runner_tells_each_vms_steps_for_the_cli_and_the_bring_up_alike(demo):
    """One runner: the CLI's lifecycle commands and the rftest2 bring-up both get each VM's steps
    through run_many(stage=…); operations without steps just run."""
    steps: dict[str, list[str]] = {}
    lock = threading.Lock()

    def stage(name: str, step: str) -> None:
        with lock:
            steps.setdefault(name, []).append(step)

    results = demo.run_many("up", ["rfvmA", "rfvmB"], stage=stage, timeout=5)
    assert all(result.ok for result in results)
    assert steps == {"rfvmA": ["start", "wait"], "rfvmB": ["start", "wait"]}
    steps.clear()
    assert all(result.ok for result in demo.run_many("suspend", ["rfvmA"], stage=stage))
    assert steps == {}  # suspend has no steps

    def custom(name: str, stage) -> str:
        stage("first")
        return "done"

    assert [r.message for r in demo.run_many(custom, ["rfvmC"], stage=stage)] == ["done"] and steps == {"rfvmC": ["first"]}
