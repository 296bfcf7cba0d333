"""Parsl's ``parsl.monitoring``: ``MonitoringHub`` (see :mod:`sprig.monitoring`)."""

from sprig.monitoring import MonitoringHub

__all__ = ["MonitoringHub"]
