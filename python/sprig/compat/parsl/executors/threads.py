"""Parsl's ``parsl.executors.threads``: :class:`ThreadPoolExecutor`, served by Sprig."""

from sprig.config import ThreadPoolExecutor

__all__ = ["ThreadPoolExecutor"]
