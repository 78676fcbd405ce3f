"""Reset of rftest2's four VMs on the real libvirtd, ``rfconsole reset`` against ``virsh`` in a row.

The VMs are rfvmA–rfvmD as tiny TCG guests (direct kernel boot) whose disk is a qcow2 overlay
of one base (Images/h1.qcow2 … h4.qcow2, made by rfconsole.images as `xml new --base` does),
running, each with a marker written into its disk before every reset (so there is work to undo).

- ``reset.four_vms_snapshot``: ``Fleet.run_many("reset", …)`` (the four at once, one process,
  the Fleet opened inside the timed region) reverting each to its snapshot ``clean``, taken
  running; baseline: ``virsh snapshot-revert VM clean --running`` for the four in a row;
- ``reset.four_vms_overlay``: the same VMs without snapshots, reset onto fresh overlays of the
  base; baseline: for each VM in a row ``virsh destroy``, ``qemu-img create -f qcow2 -F qcow2
  -b base/… h<N>.qcow2``, ``virsh start``;
- ``reset.four_vms_snapshot_cli``: the snapshot way through the ``rfconsole reset`` command
  (Python start-up included), against the same baseline;
- ``snapshot.create_four``: an internal snapshot of each of the four running guests (disk and
  memory), ``run_many`` against ``virsh snapshot-create-as`` in a row.

Medians over REPEATS; every reset is checked (all four running, markers gone) so a fast wrong
answer cannot pass for a fast one. Run alone: .venv/bin/python -m bench.reset
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import DAEMONS_LOCK, hold_daemons_lock, median, row
from bench.redeploy import (
    GUEST,
    NAMES,
    RFCONSOLE,
    URI,
    _require_setup,
    _run,
    _virsh,
    timed_command,
    under_subreaper,
)
from rfconsole.config import Config
from rfconsole.images import Images
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.rftest2 import RFTEST2_VMS, preset_spec
from rfconsole.model.spec import Hypervisor, KernelBoot
from rfconsole.store import Store, Workdir
from rfconsole.virt.fleet import Fleet

REPEATS = 5
CMDLINE = "console=ttyS0 rdinit=/init panic=-1"
MARKER = 0x5A
BASE_PATTERN = 0x11
QEMU_DISK = "/machine/peripheral/virtio-disk0/virtio-backend"


def _overlay(workdir: Workdir, name: str) -> Path:
    return workdir.image(Path(RFTEST2_VMS[name].image_name).with_suffix(".qcow2").name)


def _prepare(workdir: Workdir) -> Path:
    """A 64 MiB base (first MiB: BASE_PATTERN), an overlay and an XML per VM; returns the base."""
    workdir.xml_dir.mkdir(parents=True, exist_ok=True)
    workdir.images_dir.mkdir(exist_ok=True)
    source = workdir.root / "tinybase.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(source), "64M"], check=True)
    subprocess.run(["qemu-io", "-c", f"write -P {BASE_PATTERN:#x} 0 1M", str(source)], check=True, capture_output=True)
    images = Images(workdir)
    base, _ = images.register_base(source)
    kernel_boot = KernelBoot(kernel=GUEST / "vmlinuz", initrd=GUEST / "initrd.img", cmdline=CMDLINE)
    store = Store(workdir)
    for name in NAMES:
        overlay, _ = images.create_overlay(base, _overlay(workdir, name))
        spec = preset_spec(name, Hypervisor.QEMU, workdir, management_bridge=None, memory=128, kernel_boot=kernel_boot, image=overlay)
        store.save(DomainDocument.from_spec(spec), overwrite=True)
    return base


def _remove_all() -> None:
    for name in NAMES:
        _virsh("destroy", name, check=False)
        _virsh("undefine", "--snapshots-metadata", name, check=False)


def _fleet(workdir: Workdir) -> Fleet:
    return Fleet(Config.load(workdir), Store(workdir), connect=URI)


def _run_many(workdir: Workdir, operation: str, **options) -> float:
    started = time.perf_counter()
    fleet = _fleet(workdir)
    try:
        results = fleet.run_many(operation, NAMES, **options)
    finally:
        fleet.close()
    elapsed = time.perf_counter() - started
    failed = [f"{result.name}: {result.message}" for result in results if not result.ok]
    if failed:
        raise RuntimeError(f"rfconsole's {operation} failed: " + "; ".join(failed))
    return elapsed


def _mark_all() -> None:
    for name in NAMES:
        _virsh("qemu-monitor-command", "--hmp", name, f'qemu-io -d {QEMU_DISK} "write -P {MARKER:#x} 0 64k"')
        _virsh("qemu-monitor-command", "--hmp", name, f'qemu-io -d {QEMU_DISK} "flush"')


def _check_reset(workdir: Workdir) -> None:
    """All four running, no marker left in any disk (read while the guests run: -U -r)."""
    for name in NAMES:
        state = _virsh("domstate", name).strip()
        if state != "running":
            raise RuntimeError(f"after the reset {name} is {state}")
        read = _run("qemu-io", "-U", "-r", "-c", f"read -P {MARKER:#x} 0 64k", str(_overlay(workdir, name)))
        if "Pattern verification failed" not in read.stdout + read.stderr:
            raise RuntimeError(f"after the reset {name}'s disk still holds the marker")


def _virsh_revert_in_a_row() -> float:
    started = time.perf_counter()
    for name in NAMES:
        _virsh("snapshot-revert", name, "clean", "--running")
    return time.perf_counter() - started


def _virsh_overlay_in_a_row(workdir: Workdir, base: Path) -> float:
    started = time.perf_counter()
    for name in NAMES:
        overlay = _overlay(workdir, name)
        _virsh("destroy", name)
        made = _run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(Path("base") / base.name), str(overlay))
        if made.returncode != 0:
            raise RuntimeError(f"qemu-img create failed: {made.stderr.strip()}")
        _virsh("start", name)
    return time.perf_counter() - started


def _cli_reset(workdir: Workdir) -> float:
    return timed_command("rfconsole reset", str(RFCONSOLE), "--workdir", str(workdir.root), "--connect", URI, "reset", *NAMES)


def _virsh_snapshots_in_a_row(label: str) -> float:
    started = time.perf_counter()
    for name in NAMES:
        _virsh("snapshot-create-as", name, label)
    return time.perf_counter() - started


def _fleet_snapshots(workdir: Workdir, label: str) -> float:
    started = time.perf_counter()
    fleet = _fleet(workdir)
    try:
        results = fleet.run_many(lambda name: fleet.snapshot_create(name, label), NAMES)
    finally:
        fleet.close()
    elapsed = time.perf_counter() - started
    failed = [f"{result.name}: {result.message}" for result in results if not result.ok]
    if failed:
        raise RuntimeError("rfconsole's snapshot create failed: " + "; ".join(failed))
    return elapsed


def _timed_pair(workdir: Workdir, baseline, ours) -> tuple[float, float]:
    _mark_all()
    base_s = baseline()
    _check_reset(workdir)
    _mark_all()
    ours_s = ours()
    _check_reset(workdir)
    return base_s, ours_s


def run() -> list[dict]:
    with hold_daemons_lock(f"bench.reset: waiting for the integration tests to release {DAEMONS_LOCK}"):
        return _measure()


def _measure() -> list[dict]:
    _require_setup()
    reaper = under_subreaper()
    with tempfile.TemporaryDirectory(prefix="rfconsole-bench-") as folder:
        workdir = Workdir(folder)
        base = _prepare(workdir)
        try:
            _remove_all()
            _run_many(workdir, "up")
            overlay_base, overlay_ours = [], []
            for _ in range(REPEATS):  # no snapshots yet: the fresh-overlay way
                baseline_s, ours_s = _timed_pair(workdir, lambda: _virsh_overlay_in_a_row(workdir, base), lambda: _run_many(workdir, "reset"))
                overlay_base.append(baseline_s)
                overlay_ours.append(ours_s)
            create_base, create_ours = [], []
            for repeat in range(REPEATS):
                create_base.append(_virsh_snapshots_in_a_row(f"v{repeat}"))
                create_ours.append(_fleet_snapshots(workdir, f"r{repeat}"))
            for name in NAMES:  # keep the measured snapshots out of the reverts: one snapshot, "clean"
                for label in [f"v{repeat}" for repeat in range(REPEATS)] + [f"r{repeat}" for repeat in range(REPEATS)]:
                    _virsh("snapshot-delete", name, label)
                _virsh("snapshot-create-as", name, "clean")
            snapshot_base, snapshot_ours, snapshot_cli = [], [], []
            for _ in range(REPEATS):
                baseline_s, ours_s = _timed_pair(workdir, _virsh_revert_in_a_row, lambda: _run_many(workdir, "reset"))
                snapshot_base.append(baseline_s)
                snapshot_ours.append(ours_s)
                _mark_all()
                snapshot_cli.append(_cli_reset(workdir))
                _check_reset(workdir)
        finally:
            _remove_all()
    common = {"repeats": REPEATS, "libvirtd_under_subreaper": reaper}
    return [
        row("reset.four_vms_snapshot", "virsh snapshot-revert --running, 4 in a row", median(snapshot_base), median(snapshot_ours), **common),
        row("reset.four_vms_snapshot_cli", "virsh snapshot-revert --running, 4 in a row", median(snapshot_base), median(snapshot_cli), **common),
        row("reset.four_vms_overlay", "virsh destroy, qemu-img create, virsh start: 4 VMs in a row", median(overlay_base), median(overlay_ours), **common),
        row("snapshot.create_four", "virsh snapshot-create-as, 4 in a row", median(create_base), median(create_ours), **common),
    ]


if __name__ == "__main__":
    from bench.common import format_table

    print(format_table(run()))
