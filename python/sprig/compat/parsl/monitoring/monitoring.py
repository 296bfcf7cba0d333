"""Parsl's ``parsl.monitoring.monitoring``, where ``MonitoringHub`` is defined."""

from sprig.monitoring import MonitoringHub

__all__ = ["MonitoringHub"]
