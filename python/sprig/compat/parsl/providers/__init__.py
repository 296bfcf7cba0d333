"""Parsl's providers, served by Sprig (see :mod:`sprig.config`): ``LocalProvider``, and
``AdHocProvider`` (one block per host over ssh), which Parsl itself has removed.

Parsl's other providers (Slurm, PBS Pro, Condor, Kubernetes, ...) raise one ``ImportError`` line
saying so (the list is in :mod:`parsl._unsupported`).
"""

from sprig.config import AdHocProvider, ExecutionProvider, LocalProvider

from parsl import _unsupported

__all__ = ["AdHocProvider", "ExecutionProvider", "LocalProvider"]


def __getattr__(name: str) -> object:
    raise _unsupported.attribute_error(__name__, name)
