"""Parsl's ``parsl.jobs.states``: the state of a block (a batch job, or a local or ssh process
group) as its provider reports it: :class:`JobState`, :class:`JobStatus`, :data:`TERMINAL_STATES`."""

from __future__ import annotations

import os
from enum import IntEnum


class JobState(IntEnum):
    """The state of a block; ``str(state)`` is ``'JobState.<NAME>'``, with Parsl's numbers."""

    UNKNOWN = 0
    """The provider cannot tell."""

    PENDING = 1
    """Queued, not started yet."""

    RUNNING = 2
    """Running."""

    CANCELLED = 3
    """Cancelled."""

    COMPLETED = 4
    """Ended normally."""

    FAILED = 5
    """Ended with a failure."""

    TIMEOUT = 6
    """Ended because it reached its walltime: expected for pilot jobs, so not a failure."""

    HELD = 7
    """Held or suspended by the scheduler."""

    MISSING = 8
    """Ended without its workers ever connecting (the executor inferred it)."""

    SCALED_IN = 9
    """Stopped on purpose by scaling in."""

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


#: States a block never leaves.
TERMINAL_STATES = [JobState.CANCELLED, JobState.COMPLETED, JobState.FAILED, JobState.TIMEOUT,
                   JobState.MISSING, JobState.SCALED_IN]


class JobStatus:
    """A block's :class:`JobState` with what else the provider knows: a ``message``, the
    ``exit_code``, and the paths of the block's stdout and stderr (read back by :attr:`stdout`,
    :attr:`stderr`, and, cut to their first and last KiB when longer than 2 KiB, by
    :attr:`stdout_summary` and :attr:`stderr_summary`; None when there is no such file)."""

    SUMMARY_TRUNCATION_THRESHOLD = 2048

    def __init__(self, state: JobState, message: str | None = None, exit_code: int | None = None,
                 stdout_path: str | None = None, stderr_path: str | None = None) -> None:
        self.state = state
        self.message = message
        self.exit_code = exit_code
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path

    @property
    def terminal(self) -> bool:
        """Whether the state is one of :data:`TERMINAL_STATES`."""
        return self.state in TERMINAL_STATES

    @property
    def status_name(self) -> str:
        """The state's name (``'RUNNING'``)."""
        return self.state.name

    @property
    def stdout(self) -> str | None:
        return _read(self.stdout_path)

    @property
    def stderr(self) -> str | None:
        return _read(self.stderr_path)

    @property
    def stdout_summary(self) -> str | None:
        return _summary(self.stdout_path, self.SUMMARY_TRUNCATION_THRESHOLD)

    @property
    def stderr_summary(self) -> str | None:
        return _summary(self.stderr_path, self.SUMMARY_TRUNCATION_THRESHOLD)

    def __str__(self) -> str:
        return f"{self.state} ({self.message})" if self.message is not None else str(self.state)

    def __repr__(self) -> str:
        detail = f"state={self.state}" + (f" message={self.message}" if self.message is not None else "")
        return f"<{type(self).__module__}.{type(self).__qualname__} object at {id(self):#x}, {detail}>"


def _read(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def _summary(path: str | None, limit: int) -> str | None:
    if not path:
        return None
    try:
        with open(path, "rb") as handle:  # (bytes: the cut may fall inside a character)
            size = handle.seek(0, os.SEEK_END)
            handle.seek(0)
            if size <= limit:
                return handle.read().decode(errors="replace")
            half = limit // 2
            head = handle.read(half)
            handle.seek(size - half)
            return (head + b"\n...\n" + handle.read(half)).decode(errors="replace")
    except OSError:
        return None


__all__ = ["JobState", "JobStatus", "TERMINAL_STATES"]
