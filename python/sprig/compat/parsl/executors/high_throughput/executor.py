"""Parsl's ``parsl.executors.high_throughput.executor``: :class:`HighThroughputExecutor`, served by Sprig."""

from sprig.config import HighThroughputExecutor

__all__ = ["HighThroughputExecutor"]
