"""Parsl's executors, served by Sprig (see :mod:`sprig.config`).

Parsl's other executors (Work Queue, TaskVine, Flux, MPI, ...) raise one ``ImportError`` line
saying so (the list is in :mod:`parsl._unsupported`).
"""

from sprig.config import Executor as ParslExecutor
from sprig.config import HighThroughputExecutor, ThreadPoolExecutor

from parsl import _unsupported

__all__ = ["ParslExecutor", "ThreadPoolExecutor", "HighThroughputExecutor"]


def __getattr__(name: str) -> object:
    raise _unsupported.attribute_error(__name__, name)
