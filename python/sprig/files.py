"""Files passed between apps."""

from __future__ import annotations

import os
from urllib.parse import urlparse


class File(os.PathLike):
    """A file on the local file system, as apps see it (Parsl's ``File``).

    Made from a plain path (``'data/in.txt'``, a :class:`pathlib.Path`) or a ``file://`` URL.
    ``filepath`` is the path to open: ``local_path`` when it is set, else ``path``;
    ``os.fspath(f)``, ``str(f)`` and ``open(f)`` use it. The other attributes are Parsl's:

    - ``scheme``: ``'file'`` (also for a plain path); ``netloc``: the URL's host part (usually ``''``);
    - ``path``: the path as given (for a URL, its path part); ``filename``: its last component;
    - ``url``: a ``file://`` URL of the absolute path;
    - ``local_path``: None until set — a path that stands for this file in the current place (Parsl's
      staging sets it; a script may too); :meth:`cleancopy` gives the file without it.

    Two files are equal when they name the same path (``local_path`` aside). Other schemes
    (``https://``, ``globus://``, ...) raise :class:`ValueError`: Sprig has no data staging.
    """

    def __init__(self, url: str | os.PathLike) -> None:
        text = os.fspath(url)
        if isinstance(text, bytes):
            text = os.fsdecode(text)
        parsed = urlparse(text)
        if parsed.scheme == "file":
            self.netloc, self.path = parsed.netloc, parsed.path
        elif parsed.scheme == "":
            self.netloc, self.path = "", text  # a plain path is taken whole ('#' and '?' are just characters)
        else:
            raise ValueError(f"File: only local files are supported (a path or a file:// URL), not "
                             f"{parsed.scheme}:// ({text}): Sprig has no data staging")
        self.scheme = "file"
        self.filename = os.path.basename(self.path)
        self.local_path: str | None = None
        self._given = text

    @property
    def filepath(self) -> str:
        """The path to open here: ``local_path`` if set, else ``path``."""
        return self.local_path if self.local_path is not None else self.path

    @property
    def url(self) -> str:
        """``file://`` and the absolute ``path``."""
        return "file://" + os.path.abspath(self.path)

    def cleancopy(self) -> File:
        """A new File made from the same path or URL, without ``local_path``."""
        return File(self._given)

    def __fspath__(self) -> str:
        return self.filepath

    def __str__(self) -> str:
        return self.filepath

    def __repr__(self) -> str:
        if self.local_path is None:
            return f"File({self.path!r})"
        return f"File({self.path!r}, local_path={self.local_path!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, File) and (other.netloc, other.path) == (self.netloc, self.path)

    def __hash__(self) -> int:
        return hash(self.path)
