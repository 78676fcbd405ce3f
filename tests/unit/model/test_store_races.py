"""Real `rfconsole` processes racing on one working folder (bench/_races.py; run 100 rounds
with `.venv/bin/python -m bench._races`): nothing lost, nothing duplicated, ids unique, every
VM's backing chain opens."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import _races
from rfconsole.images import Images
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.spec import DomainSpec
from rfconsole.store import Store, Workdir


@pytest.mark.parametrize(("race", "rounds"), [("set", 2), ("new-same-name", 2), ("new-ids", 1), ("clone-ids", 2), ("delete-base", 2)])
def test_concurrent_rfconsole_processes_lose_nothing(tmp_path, race, rounds):
    findings = _races.run(rounds=rounds, workers=4 if race not in ("clone-ids", "delete-base") else 2, races=[race], root=tmp_path)[race]
    assert findings.problems == []
    assert findings.rounds == rounds and findings.succeeded >= rounds


def test_image_delete_waits_for_an_overlay_being_made_and_then_refuses(tmp_path):
    """`xml new --base` makes its overlay and XML under XML/'s lock: an `image delete` of the base
    meanwhile waits for it, then sees the new user (before: it deleted the base under the VM)."""
    (tmp_path / "XML").mkdir()
    base = _races._new_base(tmp_path, "shared")
    store = Store(Workdir(tmp_path))
    with store.locked():  # what `xml new --base shared` holds while it writes
        delete = subprocess.Popen(
            [str(Path(sys.executable).with_name("rfconsole")), "--workdir", str(tmp_path), "image", "delete", "shared"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        time.sleep(1.0)
        overlay, _ = Images(store.workdir).create_overlay(base, tmp_path / "Images" / "vm1.qcow2")
        store.save(DomainDocument.from_spec(DomainSpec(hypervisor="qemu", name="vm1", image=overlay)))
    out, err = delete.communicate(timeout=60)
    assert delete.returncode == 1, out + err
    assert "refusing to delete base 'shared': it is in use by VM vm1" in err
    assert base.exists()
