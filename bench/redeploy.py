"""Redeploy of rftest2's four VMs on the real libvirtd, rfconsole against the seed's way.

- ``redeploy.four_vms_fleet``: rfconsole in one process (a Fleet opened and connected inside the
  timed region, ``run_many("redeploy", …)``: the four VMs concurrently on one connection);
- ``redeploy.four_vms_cli``: the same through the ``rfconsole redeploy`` command (Python start-up
  included);
- baseline for both: the seed's way, 16 ``virsh`` processes in a row (destroy, undefine,
  define, start for each VM), timed in the same repetition; medians over REPEATS;
- ``redeploy.floor_libvirt_python``: the floor, bench/_floor_redeploy.py as a process: bare
  libvirt-python, one connection, one thread per VM (destroy, undefine, define, start), nothing
  checked; against the seed's way;
- ``redeploy.four_vms_cli_vs_floor``: ``rfconsole redeploy`` against that floor, the two timed
  one after the other in each repetition, taking turns going first;
- ``redeploy.event_latency``: ``start`` called -> the 'started' lifecycle event received by a
  subscriber (p50, p99); the extras time the event against ``start`` returning (negative: the
  event arrived before the call returned, as libvirt sends it while finishing the start).

The VMs are rfvmA–rfvmD from the rftest2 presets as tiny TCG guests (scripts/build-guest.sh:
direct kernel boot), their data NICs on the userspace Open vSwitch bridge dp0. Needs the
daemons (scripts/daemons.sh start). Each row says whether libvirtd ran under the prompt
subreaper (scripts/subreaper.py), which changes what destroy costs on these machines.

Run alone: .venv/bin/python -m bench.redeploy
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import (
    DAEMONS_LOCK,
    compile_bytecode,
    hold_daemons_lock,
    median,
    percentile,
    row,
)
from rfconsole.config import Config
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import RFTEST2_VMS, preset_spec
from rfconsole.model.spec import Hypervisor, KernelBoot
from rfconsole.store import Store, Workdir
from rfconsole.virt.events import DomainEvent, EventKind
from rfconsole.virt.fleet import Fleet

URI = "qemu:///system"
REPEATS = 7
LATENCY_SAMPLES = 20
NAMES = tuple(RFTEST2_VMS)
REPO = Path(__file__).resolve().parents[1]
GUEST = REPO / ".cache" / "guest"
RFCONSOLE = Path(sys.executable).with_name("rfconsole")
FLOOR = Path(__file__).with_name("_floor_redeploy.py")
CMDLINE = "console=ttyS0 rdinit=/init panic=-1"


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


def _virsh(*args: str, check: bool = True) -> str:
    result = _run("virsh", "-q", "-c", URI, *args)
    if check and result.returncode != 0:
        raise RuntimeError(f"virsh {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def _require_setup() -> None:
    if _run("virsh", "-c", URI, "version").returncode != 0:
        raise RuntimeError(f"libvirtd does not answer on {URI}: run scripts/daemons.sh start")
    missing = [name for name in ("vmlinuz", "initrd.img") if not (GUEST / name).exists()]
    if missing:
        raise RuntimeError(f"the tiny guest is not built ({', '.join(missing)}): run scripts/build-guest.sh")
    made = _run("ovs-vsctl", "--timeout=10", "--may-exist", "add-br", "dp0", "--", "set", "bridge", "dp0", "datapath_type=netdev")
    if made.returncode != 0:
        raise RuntimeError(f"cannot create the Open vSwitch bridge dp0: {made.stderr.strip()}")
    for name in NAMES:  # never touch someone's real rfvmA–rfvmD
        xml = _virsh("dumpxml", "--inactive", name, check=False)
        if xml and str(GUEST / "vmlinuz") not in xml:
            raise RuntimeError(f"{name} is defined on {URI} and is not the bench's tiny guest: not touching it")


def under_subreaper() -> bool:
    """libvirtd's parent is scripts/subreaper.py (orphans reaped at once, fast destroy)."""
    try:
        pid = Path("/run/libvirtd.pid").read_text().strip()
        parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
        return "subreaper" in Path(f"/proc/{parent}/cmdline").read_text()
    except (OSError, IndexError):
        return False


def _write_xml(workdir: Workdir) -> None:
    workdir.xml_dir.mkdir(parents=True, exist_ok=True)
    workdir.images_dir.mkdir(exist_ok=True)
    kernel_boot = KernelBoot(kernel=GUEST / "vmlinuz", initrd=GUEST / "initrd.img", cmdline=CMDLINE)
    store = Store(workdir)
    for name in NAMES:
        spec = preset_spec(name, Hypervisor.QEMU, workdir, management_bridge=None, memory=128, kernel_boot=kernel_boot)
        store.save(DomainDocument.from_spec(spec.with_changes(image=None, image_kind=None)), overwrite=True)


def _remove_all() -> None:
    for name in NAMES:
        _virsh("destroy", name, check=False)
        _virsh("undefine", name, check=False)


def _seed_way(workdir: Workdir) -> float:
    """The seed's script: 16 virsh processes in a row."""
    started = time.perf_counter()
    for name in NAMES:
        _virsh("destroy", name, check=False)  # the seed goes on when a VM is not running or not defined
        _virsh("undefine", name, check=False)
        _virsh("define", str(workdir.xml_dir / f"{name}.xml"))
        _virsh("start", name)
    return time.perf_counter() - started


def _fleet_way(workdir: Workdir) -> float:
    started = time.perf_counter()
    fleet = Fleet(Config.load(workdir), Store(workdir), connect=URI)
    try:
        results = fleet.run_many("redeploy", NAMES)
    finally:
        fleet.close()
    elapsed = time.perf_counter() - started
    failed = [f"{result.name}: {result.message}" for result in results if not result.ok]
    if failed:
        raise RuntimeError("rfconsole's redeploy failed: " + "; ".join(failed))
    return elapsed


def timed_command(what: str, *command: str) -> float:
    """Seconds one run of ``command`` took; a failed run raises, naming ``what`` with its output."""
    started = time.perf_counter()
    result = _run(*command)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed: {result.stdout.strip()} {result.stderr.strip()}")
    return elapsed


def _cli_way(workdir: Workdir) -> float:
    return timed_command(
        "rfconsole redeploy", str(RFCONSOLE), "--workdir", str(workdir.root), "--connect", URI, "redeploy", *NAMES
    )


def _floor_way(workdir: Workdir) -> float:
    return timed_command(
        "the bare libvirt-python redeploy", sys.executable, str(FLOOR), URI, str(workdir.xml_dir), *NAMES
    )


def _all_running() -> bool:
    return all(_virsh("domstate", name).strip() == "running" for name in NAMES)


def _event_latency(workdir: Workdir) -> tuple[list[float], list[float]]:
    """(start called -> event, start returned -> event) for LATENCY_SAMPLES starts of rfvmA
    (fleet.start without waiting: the bare virDomainCreate)."""
    fleet = Fleet(Config.load(workdir), Store(workdir), connect=URI)
    received: dict[str, float] = {}
    arrived = threading.Event()

    def on_event(event) -> None:
        if isinstance(event, DomainEvent) and event.domain == "rfvmA" and event.kind is EventKind.STARTED:
            received["at"] = time.perf_counter()
            arrived.set()

    fleet.subscribe(on_event)
    from_call, from_return = [], []
    try:
        fleet.host().connect()  # connected before timing
        for _ in range(LATENCY_SAMPLES):
            if fleet.is_running("rfvmA"):
                fleet.destroy("rfvmA")
            arrived.clear()
            called = time.perf_counter()
            fleet.start("rfvmA", wait=False)
            returned = time.perf_counter()
            if not arrived.wait(30):
                raise RuntimeError("no 'started' event for rfvmA within 30 s")
            from_call.append(received["at"] - called)
            from_return.append(received["at"] - returned)  # negative: the event came before start() returned
    finally:
        fleet.close()
    return from_call, from_return


def run() -> list[dict]:
    with hold_daemons_lock(f"bench.redeploy: waiting for the integration tests to release {DAEMONS_LOCK}"):
        return _measure()


def _measure() -> list[dict]:
    _require_setup()
    compile_bytecode()
    reaper = under_subreaper()
    with tempfile.TemporaryDirectory(prefix="rfconsole-bench-") as folder:
        workdir = Workdir(folder)
        _write_xml(workdir)
        try:
            _remove_all()
            _seed_way(workdir)  # warm-up: page cache, QEMU binary, every VM running
            seed, fleet, floor, cli = [], [], [], []
            for repetition in range(REPEATS):
                seed.append(_seed_way(workdir))
                fleet.append(_fleet_way(workdir))
                if repetition % 2 == 0:  # the floor and the CLI take turns going first
                    floor.append(_floor_way(workdir))
                    cli.append(_cli_way(workdir))
                else:
                    cli.append(_cli_way(workdir))
                    floor.append(_floor_way(workdir))
            if not _all_running():
                raise RuntimeError("after the redeploys not all four VMs were running")
            from_call, from_return = _event_latency(workdir)
        finally:
            _remove_all()
    baseline = "seed: 16 virsh calls in a row"
    common = {"repeats": REPEATS, "libvirtd_under_subreaper": reaper}
    return [
        row("redeploy.four_vms_fleet", baseline, median(seed), median(fleet), **common),
        row("redeploy.four_vms_cli", baseline, median(seed), median(cli), **common),
        row("redeploy.floor_libvirt_python", baseline, median(seed), median(floor), **common),
        row(
            "redeploy.four_vms_cli_vs_floor",
            "floor: bare libvirt-python, one connection, four threads",
            median(floor),
            median(cli),
            ratio_of_medians_of_pairs=round(median([c / f for c, f in zip(cli, floor)]), 3),
            **common,
        ),
        row(
            "redeploy.event_latency",
            None,
            None,
            percentile(from_call, 0.5),
            p99_s=round(percentile(from_call, 0.99), 5),
            after_return_p50_s=round(percentile(from_return, 0.5), 5),
            after_return_p99_s=round(percentile(from_return, 0.99), 5),
            samples=len(from_call),
            libvirtd_under_subreaper=reaper,
        ),
    ]


if __name__ == "__main__":
    from bench.common import format_table

    print(format_table(run()))
