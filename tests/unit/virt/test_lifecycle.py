"""Every lifecycle operation on the demo, with the event each transition raises (and its detail)."""

from __future__ import annotations

import time

import pytest

from rfconsole.model.domainxml import DomainDocument
from rfconsole.virt.errors import DomainNotFound, InvalidDefinition, OperationInvalid
from rfconsole.virt.events import DomainEvent, DomainState, EventKind
from tests.unit.virt.conftest import RFTEST2, save_preset

EVENT_BOUND = 1.0  # seconds; events arrive in well under a millisecond here, the bound is loose on purpose


def state(fleet, name):
    return fleet.status(name).state


def expect_event(recorder, name, kind, detail):
    started = time.monotonic()
    event = recorder.wait_for(
        lambda e: isinstance(e, DomainEvent) and e.domain == name and e.kind is kind and e.detail == detail,
        f"{kind} ({detail}) for {name}", timeout=EVENT_BOUND,
    )
    assert event.host == "demo"
    assert time.monotonic() - started < EVENT_BOUND
    return event


def test_demo_holds_the_four_vms_shut_off_and_owned(demo):
    statuses = demo.statuses()
    assert [s.name for s in statuses] == list(RFTEST2)
    assert all(s.state is DomainState.SHUTOFF and s.owned and s.demo and s.host == "demo" for s in statuses)
    assert all(s.hypervisor.value == "test" and s.vcpus == 1 and s.memory_mib == 512 for s in statuses)


def test_start_suspend_resume_shutdown_with_events(demo, recorder):
    assert demo.start("rfvmA").words == "running on host demo"
    assert state(demo, "rfvmA") is DomainState.RUNNING
    expect_event(recorder, "rfvmA", EventKind.STARTED, "booted")

    demo.suspend("rfvmA")
    assert state(demo, "rfvmA") is DomainState.PAUSED
    expect_event(recorder, "rfvmA", EventKind.SUSPENDED, "paused")

    demo.resume("rfvmA")
    assert state(demo, "rfvmA") is DomainState.RUNNING
    expect_event(recorder, "rfvmA", EventKind.RESUMED, "unpaused")

    assert demo.shutdown("rfvmA", timeout=5).words == "shut off on host demo"
    assert state(demo, "rfvmA") is DomainState.SHUTOFF
    expect_event(recorder, "rfvmA", EventKind.STOPPED, "shutdown")


def test_destroy_and_undefine_with_events(demo, recorder):
    demo.start("rfvmB")
    demo.destroy("rfvmB")
    assert state(demo, "rfvmB") is DomainState.SHUTOFF
    expect_event(recorder, "rfvmB", EventKind.STOPPED, "destroyed")

    said = demo.undefine("rfvmB").words  # XML/ had no file of it: libvirt's definition is saved there first
    assert said.startswith("undefined on host demo; its definition was saved to ") and "XML/rfvmB.xml" in said
    assert demo.status("rfvmB") is None and not demo.has_domain("rfvmB")
    expect_event(recorder, "rfvmB", EventKind.UNDEFINED, "removed")


def test_define_marks_the_domain_as_ours_and_raises_defined(demo, recorder, store):
    text = save_preset(store, "rfvmA").to_xml()
    unmarked = DomainDocument.parse(text.replace("rfvmA", "plain").replace("<metadata>", "<!--").replace("</metadata>", "-->"))
    assert not unmarked.owned
    assert demo.define(unmarked).words == "defined on host demo"
    expect_event(recorder, "plain", EventKind.DEFINED, "added")
    assert demo.status("plain").owned  # defined by rfconsole, so rfconsole's

    # by name, from XML/: the demo's rfvmA is ours, so redefining it (while shut off) is allowed
    assert demo.define("rfvmA").words == "redefined on host demo"
    expect_event(recorder, "rfvmA", EventKind.UNDEFINED, "removed")
    expect_event(recorder, "rfvmA", EventKind.DEFINED, "added")
    assert demo.status("rfvmA").owned


def test_redefining_a_running_domain_is_refused(demo, store):
    save_preset(store, "rfvmA")
    demo.start("rfvmA")
    with pytest.raises(OperationInvalid, match="rfvmA is running on host demo") as error:
        demo.define("rfvmA")
    assert "redeploy" in error.value.hint
    assert state(demo, "rfvmA") is DomainState.RUNNING


def test_a_refused_redefinition_puts_the_previous_one_back(demo):
    before = demo.live_xml("rfvmB")
    bad = DomainDocument.parse(
        "<domain type='test'><name>rfvmB</name><memory unit='MiB'>64</memory>"
        "<os><type>hvm</type></os><devices><nonsense/></devices></domain>"
    )
    with pytest.raises(InvalidDefinition, match="the previous definition was put back"):
        demo.define(bad)
    after = demo.live_xml("rfvmB")
    assert after is not None and "02:b0:b0:b0:b0:b0" in after and "<nonsense" not in after
    assert before.count("<interface") == after.count("<interface")


def test_redeploy_of_a_file_libvirt_would_refuse_leaves_the_running_domain_alone(demo, store):
    demo.start("rfvmA")
    document = save_preset(store, "rfvmA")
    path = store.find("rfvmA")
    path.write_text(document.to_xml().replace("<devices>", "<devices><nonsense/>"))
    with pytest.raises(InvalidDefinition) as refused:
        demo.redeploy("rfvmA")
    assert refused.value.message.startswith(f"refusing to redeploy rfvmA: {path} does not follow libvirt's domain schema: ")
    assert "nonsense" in refused.value.message and "nothing was touched" in refused.value.hint
    assert state(demo, "rfvmA") is DomainState.RUNNING


def test_reboot_keeps_it_running(demo):
    demo.start("rfvmC")
    assert demo.reboot("rfvmC").words == "reboot requested on host demo"
    assert state(demo, "rfvmC") is DomainState.RUNNING


def test_wrong_states_are_refused_in_words(demo):
    with pytest.raises(OperationInvalid, match="rfvmA on host demo is not running"):
        demo.destroy("rfvmA")
    demo.start("rfvmA")
    with pytest.raises(OperationInvalid, match="rfvmA on host demo is already running"):
        demo.start("rfvmA")
    with pytest.raises(OperationInvalid) as paused:
        demo.suspend("rfvmA")
        demo.start("rfvmA")
    assert "resume" in paused.value.hint


def test_unknown_domain_names_the_host_and_says_what_to_do(demo):
    with pytest.raises(DomainNotFound) as error:
        demo.start("nosuch")
    assert "nosuch is not defined on host demo" in error.value.message
    assert "rfconsole define nosuch" in error.value.hint


def test_libvirt_validation_refuses_what_the_schema_does_not_allow(demo):
    document = DomainDocument.parse(
        "<domain type='test'><name>odd</name><memory unit='MiB'>64</memory>"
        "<os><type>hvm</type></os><devices><nonsense/></devices></domain>"
    )
    with pytest.raises(InvalidDefinition) as error:
        demo.define(document)
    assert "cannot define odd on host demo" in error.value.message
    assert error.value.libvirt_message and error.value.code is not None
    assert not demo.has_domain("odd")


def test_up_is_idempotent_and_defines_from_xml(demo, store):
    assert demo.up("rfvmA").words == "started, running on host demo"
    assert demo.up("rfvmA").words == "already running on host demo"
    demo.suspend("rfvmA")
    assert demo.up("rfvmA").words == "resumed, running on host demo"
    save_preset(store, "rfvmA", name="extra", id=9)
    assert demo.up("extra").words == "defined, started, running on host demo"  # its image made by save_preset
    assert demo.is_running("extra")


def test_down_is_idempotent(demo):
    demo.start("rfvmD")
    assert demo.down("rfvmD", timeout=5).words == "shut off on host demo"
    assert demo.down("rfvmD").words == "already shut off on host demo"
    demo.start("rfvmD")
    demo.suspend("rfvmD")
    assert "destroyed (it was paused)" in demo.down("rfvmD").words


def test_cpu_percent_needs_two_samples(demo):
    demo.start("rfvmA")
    statuses, problems = demo.collect_statuses(sample_cpu=0.25)
    assert problems == []
    running = next(s for s in statuses if s.name == "rfvmA")
    assert 0.0 < running.cpu_percent <= 100.0
    assert all(s.cpu_percent == 0.0 for s in statuses if s.name != "rfvmA")


def test_a_failing_subscriber_does_not_stop_the_others(demo, recorder):
    def broken(_event):
        raise RuntimeError("subscriber bug")

    demo.subscribe(broken)
    later = type(recorder)()
    demo.subscribe(later)
    demo.start("rfvmA")
    later.wait_for(lambda e: getattr(e, "kind", None) is EventKind.STARTED, "started after a failing subscriber")


def test_up_and_down_tell_each_step(demo, store):
    steps = []
    demo.up("rfvmA", stage=steps.append)
    assert steps == ["start", "wait"]
    save_preset(store, "rfvmA", name="fresh", id=7)
    steps.clear()
    demo.up("fresh", stage=steps.append)
    assert steps == ["define", "start", "wait"]
    steps.clear()
    demo.down("rfvmA", timeout=5, stage=steps.append)
    assert steps == ["shutdown", "wait"]


def test_outcomes_carry_host_domain_and_action_besides_their_words(demo):
    started = demo.start("rfvmA")
    assert str(started) == "running on host demo"  # the words the faces print, unchanged
    assert (started.host, started.domain, started.action, started.words) == ("demo", "rfvmA", "start", "running on host demo")
    paused = demo.suspend("rfvmA")
    assert (paused.host, paused.domain, paused.action) == ("demo", "rfvmA", "suspend")
    down = demo.down("rfvmA")
    assert (down.domain, down.action) == ("rfvmA", "down") and down.words.startswith("destroyed (it was paused)")
    assert demo.up("rfvmA").action == "up"


def test_power_cycle_is_libvirts_hard_reset_of_a_running_domain_only(demo):
    with pytest.raises(OperationInvalid, match="rfvmC on host demo is not running"):
        demo.power_cycle("rfvmC")
    demo.start("rfvmC")
    assert demo.power_cycle("rfvmC").words == "power-cycled (hard reset) on host demo"
    assert state(demo, "rfvmC") is DomainState.RUNNING
