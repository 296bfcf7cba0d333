"""Parsl's ``parsl.providers.local.local``: :class:`LocalProvider`, served by Sprig."""

from sprig.config import LocalProvider

__all__ = ["LocalProvider"]
