"""Parsl's ``parsl.errors``, served by Sprig."""

from sprig.errors import ConfigurationError, NoDataFlowKernelError, ParslError

__all__ = ["ParslError", "ConfigurationError", "NoDataFlowKernelError"]
