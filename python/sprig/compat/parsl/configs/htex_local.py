"""Parsl's ``parsl.configs.htex_local``: one ``HighThroughputExecutor`` (label ``htex_local``,
1 core per worker) with one ``LocalProvider`` block."""

from sprig.config import htex_local

config = htex_local()

__all__ = ["config"]
