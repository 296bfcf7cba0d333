"""Parsl's ``parsl.data_provider.files``: :class:`File`, served by Sprig (local files only)."""

from sprig.files import File

__all__ = ["File"]
