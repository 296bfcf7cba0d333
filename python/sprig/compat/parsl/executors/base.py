"""Parsl's ``parsl.executors.base``: :class:`ParslExecutor`, the base class of every executor.

It is Sprig's :class:`sprig.config.Executor`, so ``isinstance(executor, ParslExecutor)`` holds for
``ThreadPoolExecutor`` and ``HighThroughputExecutor`` configs.
"""

from sprig.config import Executor as ParslExecutor

__all__ = ["ParslExecutor"]
