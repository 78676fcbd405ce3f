"""Real `rfconsole` processes racing on one working folder (bench/_races.py; run 100 rounds
with `.venv/bin/python -m bench._races`): nothing lost, nothing duplicated, ids unique."""

import pytest

from bench import _races


@pytest.mark.parametrize(("race", "rounds"), [("set", 2), ("new-same-name", 2), ("new-ids", 1)])
def test_concurrent_rfconsole_processes_lose_nothing(tmp_path, race, rounds):
    findings = _races.run(rounds=rounds, workers=4, races=[race], root=tmp_path)[race]
    assert findings.problems == []
    assert findings.rounds == rounds and findings.succeeded >= rounds
