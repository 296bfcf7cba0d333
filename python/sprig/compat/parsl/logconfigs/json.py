"""Parsl's ``parsl.logconfigs.json``: :class:`JSONLogging`."""

from sprig.log_configs import JSONHandler, JSONLogging

__all__ = ["JSONLogging", "JSONHandler"]
