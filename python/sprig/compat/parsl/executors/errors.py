"""Parsl's ``parsl.executors.errors``, served by Sprig (see :mod:`sprig.errors`).

``ExecutorError`` is the class Sprig raises when an executor cannot run a task;
``InvalidResourceSpecification`` (a subclass) when a task's resource specification names what
its executor does not take (``HighThroughputExecutor.validate_resource_spec``);
``BadStateException`` (a subclass) when the executor gave up starting blocks. ``ScalingFailed``
is a subclass Sprig does not raise: it exists so that Parsl scripts naming it import cleanly. It
takes Parsl's arguments: the executor and the reason.
"""

from __future__ import annotations

from sprig.errors import BadStateException, ExecutorError, InvalidResourceSpecification

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


class ScalingFailed(_ExecutorFailure):
    """Parsl's error for a provider that failed to scale (Sprig does not raise it yet)."""

    _what = "failed to scale"


__all__ = ["ExecutorError", "BadStateException", "ScalingFailed", "InvalidResourceSpecification"]
