"""Parsl's ``parsl.executors.high_throughput.errors``: the worker- and manager-loss errors.

They are the classes Sprig's futures fail with (from :mod:`sprig.errors`), so ``except WorkerLost``
catches a lost worker on any Sprig executor.
"""

from sprig.errors import ManagerLost, WorkerLost

__all__ = ["WorkerLost", "ManagerLost"]
