"""sprig.File, as Python apps receive it."""

import os

import pytest

from sprig.files import File


def test_a_path_keeps_its_path_and_name():
    f = File("data/in.txt")
    assert f.filepath == "data/in.txt"
    assert f.filename == "in.txt"
    assert os.fspath(f) == "data/in.txt"
    assert str(f) == "data/in.txt"
    assert f.url == "file://" + os.path.abspath("data/in.txt")


def test_a_file_url_becomes_its_path():
    assert File("file:///tmp/x.csv").filepath == "/tmp/x.csv"


def test_remote_schemes_are_refused_by_name():
    with pytest.raises(ValueError, match="https"):
        File("https://example.org/x")


def test_files_compare_by_path(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("hi")
    assert File(str(target)) == File(str(target))
    assert len({File(str(target)), File(str(target))}) == 1
    with open(File(str(target))) as handle:
        assert handle.read() == "hi"
