"""The states a task passes through, with Parsl's names and numbers (``parsl.dataflow.states``).

A successful task goes ``pending`` → ``launched`` → ``running`` → ``running_ended`` →
``exec_done``; every task ends in one of :data:`FINAL_STATES`. Sprig's futures report these in
``future.task_record['status']``; tools that read Parsl's monitoring database use the same numbers.
"""

from __future__ import annotations

from enum import IntEnum


class States(IntEnum):
    """The states a task may be in; ``str(state)`` is ``'States.<name>'`` as in Parsl."""

    unsched = -1
    """Created but not yet submitted (Parsl's older releases; newer ones go straight to pending)."""

    pending = 0
    """Known, but waiting (usually for its dependencies)."""

    running = 2
    """Running on a worker (reported by the worker side, not by the kernel)."""

    exec_done = 3
    """Finished successfully."""

    failed = 4
    """Failed, with no attempts left."""

    dep_fail = 5
    """Never launched, because a dependency failed."""

    launched = 7
    """Handed to an executor."""

    fail_retryable = 8
    """Failed, and will be tried again."""

    memo_done = 9
    """Done without running: its result came from the app cache or a checkpoint."""

    joining = 10
    """A join app whose function has returned, waiting for the tasks it returned."""

    running_ended = 11
    """The worker-side wrapper has finished (whether the app succeeded or not)."""

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


#: Final states that mean the task failed (a subset of :data:`FINAL_STATES`).
FINAL_FAILURE_STATES = frozenset({States.failed, States.dep_fail})

#: States a task never leaves.
FINAL_STATES = frozenset({States.exec_done, States.memo_done, *FINAL_FAILURE_STATES})

__all__ = ["States", "FINAL_STATES", "FINAL_FAILURE_STATES"]
