"""Parsl's executors, served by Sprig (see :mod:`sprig.config`)."""

from sprig.config import Executor as ParslExecutor
from sprig.config import HighThroughputExecutor, ThreadPoolExecutor

__all__ = ["ParslExecutor", "ThreadPoolExecutor", "HighThroughputExecutor"]
