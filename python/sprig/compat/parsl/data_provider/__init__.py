"""Parsl's ``parsl.data_provider``, served by Sprig: ``files`` (local files only).

The staging providers (``http``, ``ftp``, ``globus``, ``rsync``, ``zip``, ...) raise one
``ImportError`` line saying Sprig has no data staging (the list is in :mod:`parsl._unsupported`).
"""

from parsl import _unsupported


def __getattr__(name: str) -> object:
    raise _unsupported.attribute_error(__name__, name)
