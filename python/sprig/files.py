"""Files passed between apps."""

from __future__ import annotations

import os
from urllib.parse import urlparse


class File(os.PathLike):
    """A file named by a path or a URL, as apps see it (Parsl's ``File``).

    Made from a plain path (``'data/in.txt'``, a :class:`pathlib.Path`) or a URL of any scheme
    (``file://``, ``https://``, ``globus://``, ...). The attributes are Parsl's:

    - ``url``: the text it was made from, unchanged;
    - ``scheme``: the URL's scheme, ``'file'`` for a plain path; ``netloc``: the URL's host part
      (``''`` for a plain path); ``path``: the path part (a plain path is taken whole: ``#`` and
      ``?`` are just characters in it); ``filename``: the path's last component;
    - ``local_path``: None until set — a path that stands for this file in the current place
      (Parsl's staging sets it; a script may too); :meth:`cleancopy` gives the file without it;
    - ``filepath``: the path to open here: ``local_path`` when set, else ``path`` for a
      ``file`` file. ``os.fspath(f)``, ``str(f)`` and ``open(f)`` use it.

    Sprig has no data staging: a file of another scheme is a value like any other, but its
    ``filepath`` (and so passing it to an app, or naming it in ``outputs``) raises
    :class:`ValueError` naming the URL, unless ``local_path`` is set.

    Two files are equal when they name the same scheme, host and path (``local_path`` aside).
    """

    def __init__(self, url: str | os.PathLike) -> None:
        text = os.fspath(url)
        if isinstance(text, bytes):
            text = os.fsdecode(text)
        parsed = urlparse(text)
        self.url = text
        if parsed.scheme:
            self.scheme, self.netloc, self.path = parsed.scheme, parsed.netloc, parsed.path
        else:
            self.scheme, self.netloc, self.path = "file", "", text  # a plain path is taken whole
        self.filename = os.path.basename(self.path)
        self.local_path: str | None = None

    @property
    def filepath(self) -> str:
        """The path to open here: ``local_path`` if set, else ``path`` for a ``file`` file;
        :class:`ValueError` for a file of another scheme without ``local_path``."""
        if self.local_path is not None:
            return self.local_path
        if self.scheme == "file":
            return self.path
        raise ValueError(f"No local_path set for {self!r}: {self.url} is a {self.scheme}:// file and Sprig has "
                         "no data staging, so it cannot be opened here; fetch it to a local path first "
                         "(or set local_path)")

    def cleancopy(self) -> File:
        """A new File made from the same URL, without ``local_path``."""
        return File(self.url)

    def __fspath__(self) -> str:
        return self.filepath

    def __str__(self) -> str:
        return self.filepath

    def __repr__(self) -> str:
        fields = [f"url={self.url}", f"scheme={self.scheme}", f"netloc={self.netloc}", f"path={self.path}",
                  f"filename={self.filename}"]
        if self.local_path is not None:
            fields.append(f"local_path={self.local_path}")
        return f"<{type(self).__name__} at {id(self):#x} {' '.join(fields)}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, File) and (other.scheme, other.netloc, other.path) == (self.scheme, self.netloc, self.path)

    def __hash__(self) -> int:
        return hash(self.path)
