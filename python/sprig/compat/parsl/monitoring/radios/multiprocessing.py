"""Parsl's ``parsl.monitoring.radios.multiprocessing``: ``MultiprocessingQueueRadio`` (see :mod:`sprig.radios`: accepted; Sprig's workers
report through their block's own stream)."""

from sprig.radios import MultiprocessingQueueRadio

__all__ = ["MultiprocessingQueueRadio"]
