"""Live migration of a running tiny TCG guest between the two daemons of scripts/daemons.sh (the
first, qemu:///system, and the second over qemu+ssh), ``rfconsole migrate`` against ``virsh``.

- ``migrate.live_cli``: ``rfconsole migrate rfit-bench-mig host2 --live`` (Python start-up, its
  checks, the connections to both daemons included); baseline: ``virsh -c qemu:///system migrate
  --live --persistent --undefinesource rfit-bench-mig HOST2_URI`` (the same flags libvirt gets).
  Both move the same guest the same way (first daemon to the second); between two timed runs the
  guest is moved back untimed with virsh. Each row also reports the median downtime libvirt
  measured (the target's completed job: ``virsh domjobinfo --completed``), for both.

Medians over REPEATS; after every timed move the guest must be running, persistent on the second
daemon and gone from the first, or the benchmark raises. Run alone: .venv/bin/python -m bench.migrate
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from bench.common import DAEMONS_LOCK, hold_daemons_lock, median, row
from bench.redeploy import GUEST, RFCONSOLE, URI, _require_setup, _run, timed_command
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.spec import DomainSpec, Hypervisor, KernelBoot
from rfconsole.store import Store, Workdir

REPEATS = 3
NAME = "rfit-bench-mig"
HOST2_URI = "qemu+ssh://root@127.0.0.1:2222/system?keyfile=/var/lib/rfconsole-host2/client_key&no_verify=1"
CMDLINE = "console=ttyS0 rdinit=/init panic=-1"


def _virsh(uri: str, *args: str, check: bool = True) -> str:
    result = _run("virsh", "-q", "-c", uri, *args)
    if check and result.returncode != 0:
        raise RuntimeError(f"virsh -c {uri} {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def _remove(uri: str) -> None:
    _virsh(uri, "destroy", NAME, check=False)
    _virsh(uri, "undefine", NAME, check=False)


def _downtime_ms(uri: str) -> int:
    found = re.search(r"Total downtime:\s+(\d+)\s+ms", _virsh(uri, "domjobinfo", "--completed", NAME))
    if not found:
        raise RuntimeError(f"no downtime in {uri}'s completed job of {NAME}")
    return int(found.group(1))


def _check_moved() -> None:
    if _virsh(HOST2_URI, "domstate", NAME).strip() != "running" or "Persistent:     yes" not in _virsh(HOST2_URI, "dominfo", NAME):
        raise RuntimeError(f"{NAME} is not running and persistent on the second daemon after the migration")
    if _run("virsh", "-c", URI, "domstate", NAME).returncode == 0:
        raise RuntimeError(f"{NAME} is still defined on the first daemon after the migration")


def _move_back() -> None:
    _virsh(HOST2_URI, "migrate", "--live", "--persistent", "--undefinesource", NAME, URI)


def run() -> list[dict]:
    _require_setup()
    if _run("virsh", "-c", HOST2_URI, "version").returncode != 0:
        raise RuntimeError(f"the second libvirtd does not answer on {HOST2_URI}: run scripts/daemons.sh start")
    with hold_daemons_lock(f"waiting for {DAEMONS_LOCK}"), tempfile.TemporaryDirectory(prefix="rfconsole-bench-migrate-") as folder:
        workdir = Workdir(Path(folder))
        workdir.xml_dir.mkdir()
        workdir.images_dir.mkdir()
        workdir.config_path.write_text(f'default_host = "local"\n[hosts]\nlocal = "{URI}"\nhost2 = "{HOST2_URI}"\n')
        spec = DomainSpec(hypervisor=Hypervisor.QEMU, name=NAME, memory=128,
                          kernel_boot=KernelBoot(kernel=GUEST / "vmlinuz", initrd=GUEST / "initrd.img", cmdline=CMDLINE))
        path = Store(workdir).save(DomainDocument.from_spec(spec))
        for uri in (URI, HOST2_URI):
            _remove(uri)
        try:
            _virsh(URI, "define", str(path))
            _virsh(URI, "start", NAME)
            ours, theirs, our_downtimes, their_downtimes = [], [], [], []
            for _ in range(REPEATS):
                ours.append(timed_command("rfconsole migrate", str(RFCONSOLE), "--workdir", folder, "migrate", NAME, "host2", "--live"))
                _check_moved()
                our_downtimes.append(_downtime_ms(HOST2_URI))
                _move_back()
                theirs.append(timed_command("virsh migrate --live", "virsh", "-c", URI, "migrate", "--live", "--persistent",
                                            "--undefinesource", NAME, HOST2_URI))
                _check_moved()
                their_downtimes.append(_downtime_ms(HOST2_URI))
                _move_back()
        finally:
            for uri in (URI, HOST2_URI):
                _remove(uri)
    return [row("migrate.live_cli", "virsh migrate --live --persistent --undefinesource", median(theirs), median(ours),
                repeats=REPEATS, downtime_ms=median(our_downtimes), baseline_downtime_ms=median(their_downtimes))]


if __name__ == "__main__":
    from bench.common import format_table

    print(format_table(run()))
