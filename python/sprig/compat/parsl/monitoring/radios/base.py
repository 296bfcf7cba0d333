"""Parsl's ``parsl.monitoring.radios.base``: ``RadioConfig`` (see :mod:`sprig.radios`: accepted; Sprig's workers
report through their block's own stream)."""

from sprig.radios import RadioConfig

__all__ = ["RadioConfig"]
