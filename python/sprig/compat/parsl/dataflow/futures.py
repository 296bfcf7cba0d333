"""Parsl's ``parsl.dataflow.futures``: :class:`AppFuture`, served by Sprig."""

from sprig.futures import AppFuture

__all__ = ["AppFuture"]
