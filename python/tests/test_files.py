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
    assert f.url == "data/in.txt" and f.scheme == "file"  # the text given, as in Parsl


def test_a_file_url_becomes_its_path():
    assert File("file:///tmp/x.csv").filepath == "/tmp/x.csv"


def test_remote_schemes_are_values_without_a_local_path():
    f = File("https://example.org/x")
    assert (f.scheme, f.netloc, f.path) == ("https", "example.org", "/x")
    with pytest.raises(ValueError, match=r"https://example\.org/x .*no data staging"):
        open(f)


def test_files_compare_by_path(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("hi")
    assert File(str(target)) == File(str(target))
    assert len({File(str(target)), File(str(target))}) == 1
    with open(File(str(target))) as handle:
        assert handle.read() == "hi"
