"""Every option that takes seconds goes through one converter (rfconsole.cli.seconds): a word, nan,
inf or a number out of range is a usage error naming the option and the range, and nothing is done."""

from __future__ import annotations

import pytest

from rfconsole.cli import main


@pytest.mark.parametrize("command", [
    ["clone", "rfvmA", "rfvmE", "--up", "--timeout"],
    ["start", "rfvmA", "--timeout"],
    ["down", "--timeout"],
    ["top", "--once", "--interval"],
])
@pytest.mark.parametrize("bad", ["nan", "inf", "-5", "soon", "1e9"])
def test_bad_seconds_are_refused_in_words_and_nothing_is_done(tmp_path, capsys, command, bad):
    (tmp_path / "XML").mkdir()
    with pytest.raises(SystemExit) as exited:
        main(["--demo", "--workdir", str(tmp_path), *command, bad])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert f"{command[-1]}: '{bad}'" in err and ("seconds" in err), err
    assert list((tmp_path / "XML").iterdir()) == []  # no clone written
