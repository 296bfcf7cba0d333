"""Parsl's ``parsl.executors.errors``, served by Sprig (see :mod:`sprig.errors`).

``ExecutorError`` is the class Sprig raises when an executor cannot run a task;
``InvalidResourceSpecification`` (a subclass) when a task's resource specification names what
its executor does not take (``HighThroughputExecutor.validate_resource_spec``).
``BadStateException`` and ``ScalingFailed`` are subclasses of it that Sprig does not raise yet:
they exist so that Parsl scripts naming them import cleanly, and ``except ExecutorError`` catches
what Sprig raises instead. They take Parsl's arguments: the executor and the reason.
"""

from __future__ import annotations

from sprig.errors import ExecutorError, InvalidResourceSpecification

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _ExecutorFailure(ExecutorError):
    """An executor-wide failure: ``executor`` (the executor object) and ``reason`` (text)."""

    def __init__(self, executor: Any, reason: object) -> None:
        label = getattr(executor, "label", executor)
        super().__init__(f"executor {label} {self._what}: {reason}")
        self.args = (executor, reason)
        self.executor = executor
        self.reason = str(reason)

    _what = "failed"


class BadStateException(_ExecutorFailure):
    """Parsl's error for an executor in a bad state (Sprig does not raise it yet)."""

    _what = "is in a bad state"


class ScalingFailed(_ExecutorFailure):
    """Parsl's error for a provider that failed to scale (Sprig does not raise it yet)."""

    _what = "failed to scale"


__all__ = ["ExecutorError", "BadStateException", "ScalingFailed", "InvalidResourceSpecification"]
