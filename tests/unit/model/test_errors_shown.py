"""A problem quotes the value it was given: whole when short, and a long one with its start and
its end, so a path deep in a long working folder still names its file."""

from __future__ import annotations

from rfconsole.model.errors import SHOWN_VALUE, Problem


def test_a_long_path_keeps_its_file_name():
    path = "/srv/" + "/".join(f"a-long-folder-name-{number}" for number in range(8)) + "/Images/h1.img"
    said = str(Problem("image", path, "this image file does not exist"))
    assert "h1.img'" in said and said.count("...") == 1 and "/srv/a-long-folder" in said
    assert len(said) < len("image: this image file does not exist (given: '')") + SHOWN_VALUE + 5


def test_a_short_value_is_whole_and_a_huge_one_is_bounded():
    assert str(Problem("memory", "lots", "not a size")) == "memory: not a size (given: 'lots')"
    assert len(str(Problem("name", "x" * 100_000, "too long"))) < 200
