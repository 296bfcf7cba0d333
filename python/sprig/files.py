"""Files passed between apps."""

from __future__ import annotations

import os
from urllib.parse import urlparse


class File(os.PathLike):
    """A file on the local file system, as apps see it (Parsl's ``File`` shape).

    ``filepath`` is the path, ``url`` a ``file://`` URL; ``os.fspath(f)`` and ``open(f)`` work.
    """

    def __init__(self, url: str | os.PathLike) -> None:
        text = os.fspath(url)
        parsed = urlparse(text)
        if parsed.scheme in ("", "file"):
            self.filepath = parsed.path if parsed.scheme == "file" else text
        else:
            raise ValueError(f"File: only local files are supported, not {parsed.scheme}:// ({text})")
        self.filename = os.path.basename(self.filepath)

    @property
    def url(self) -> str:
        return "file://" + os.path.abspath(self.filepath)

    def __fspath__(self) -> str:
        return self.filepath

    def __str__(self) -> str:
        return self.filepath

    def __repr__(self) -> str:
        return f"File({self.filepath!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, File) and other.filepath == self.filepath

    def __hash__(self) -> int:
        return hash(self.filepath)
