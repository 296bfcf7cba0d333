"""Parsl's ``parsl.config``: :class:`Config`, served by Sprig (see :mod:`sprig.config`)."""

from sprig.config import Config

__all__ = ["Config"]
