"""Parsl's ``parsl.dataflow.errors``, served by Sprig (see :mod:`sprig.errors`)."""

from sprig.errors import DataFlowException, DependencyError, JoinError, PropagatedException

__all__ = ["DataFlowException", "PropagatedException", "DependencyError", "JoinError"]
