"""Parsl's ``parsl.logconfigs.file``: :class:`FileLogging`."""

from sprig.log_configs import FileLogging

__all__ = ["FileLogging"]
