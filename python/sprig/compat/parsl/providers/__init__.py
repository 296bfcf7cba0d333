"""Parsl's providers, served by Sprig (see :mod:`sprig.config`): ``LocalProvider``, and
``AdHocProvider`` (one block per host over ssh), which Parsl itself has removed."""

from sprig.config import AdHocProvider, ExecutionProvider, LocalProvider

__all__ = ["AdHocProvider", "ExecutionProvider", "LocalProvider"]
