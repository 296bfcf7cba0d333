"""Parsl's ``parsl.app.futures``: :class:`DataFuture`, served by Sprig."""

from sprig.futures import DataFuture

__all__ = ["DataFuture"]
