"""Parsl's providers, served by Sprig (see :mod:`sprig.config`): ``LocalProvider``,
``SlurmProvider`` (batch jobs whose managers connect back), and ``AdHocProvider`` (one block per
host over ssh), which Parsl itself has removed.

Parsl's other providers (PBS Pro, Condor, Kubernetes, ...) raise one ``ImportError`` line
saying so (the list is in :mod:`parsl._unsupported`).
"""

from sprig.config import AdHocProvider, ExecutionProvider, LocalProvider, SlurmProvider

from parsl import _unsupported

__all__ = ["AdHocProvider", "ExecutionProvider", "LocalProvider", "SlurmProvider"]


def __getattr__(name: str) -> object:
    raise _unsupported.attribute_error(__name__, name)
