"""Parsl's ``parsl.configs.local_threads``: one ``ThreadPoolExecutor()`` (2 threads)."""

from sprig.config import local_threads

config = local_threads()

__all__ = ["config"]
