"""Parsl's ``parsl.logconfigs.noop``: :class:`NoopLogging`."""

from sprig.log_configs import NoopLogging

__all__ = ["NoopLogging"]
