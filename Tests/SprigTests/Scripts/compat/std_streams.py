# stdout/stderr targets: os.PathLike and File accepted; bad specs fail as Parsl's do.
import os
import pathlib
import sys

from parsl.app.app import bash_app
from parsl.app.errors import BadStdStreamFile
from parsl.data_provider.files import File

folder = pathlib.Path(sys.argv[1])


@bash_app
def echo(word, stdout=None, stderr=None):
    return f"echo {word}; echo {word} >&2"


assert echo("path", stdout=folder / "p.out", stderr=folder / "p.err").result() == 0
assert (folder / "p.out").read_text() == "path\n" and (folder / "p.err").read_text() == "path\n"
assert echo("file", stdout=File(str(folder / "f.out"))).result() == 0
assert (folder / "f.out").read_text() == "file\n"
assert echo("tuple", stdout=(folder / "t.out", "w")).result() == 0
assert echo("tuple", stdout=(str(folder / "t.out"), "w")).result() == 0
assert (folder / "t.out").read_text() == "tuple\n"
print("ok targets")
for spec in (["l.out", "w"], ("n.out", None), (42, "w"), ("3.out", "w", 42), ("1.out",), 42):
    try:
        echo("x", stdout=spec).result()
        raise AssertionError(f"{spec!r} accepted")
    except TypeError as e:
        assert "stdout" in str(e), e
print("ok bad specs are TypeErrors")
# A folder that cannot be made: a file stands where it would be (missing folders are made, as in Parsl).
for spec in (("m.out", "badmode"), str(folder / "p.out" / "x.out")):
    try:
        echo("x", stdout=spec).result()
        raise AssertionError(f"{spec!r} accepted")
    except BadStdStreamFile:
        pass
print("ok bad files are BadStdStreamFile")
assert echo("none", stdout=None).result() == 0
print("ok None means no redirection")
