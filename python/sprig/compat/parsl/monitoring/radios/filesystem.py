"""Parsl's ``parsl.monitoring.radios.filesystem``: ``FilesystemRadio`` (see :mod:`sprig.radios`: accepted; Sprig's workers
report through their block's own stream)."""

from sprig.radios import FilesystemRadio

__all__ = ["FilesystemRadio"]
