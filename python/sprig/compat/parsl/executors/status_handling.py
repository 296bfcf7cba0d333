"""Parsl's ``parsl.executors.status_handling``: ``BlockProviderExecutor``, the base of executors
whose workers run in provider-started blocks (here :class:`~sprig.executors.HighThroughputExecutor`)."""

from sprig.executors import BlockProviderExecutor

__all__ = ["BlockProviderExecutor"]
