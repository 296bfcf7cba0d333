"""The states a task passes through, with Parsl's names and numbers (``parsl.dataflow.states``)."""

from __future__ import annotations

from enum import IntEnum


class States(IntEnum):
    """A task's state, as in Parsl's task records (``future.task_record['status']``)."""

    pending = 0
    running = 2
    exec_done = 3
    failed = 4
    dep_fail = 5
    launched = 7
    fail_retryable = 8
    memo_done = 9
    joining = 10
    running_ended = 11


#: States a task ends in after a failure.
FINAL_FAILURE_STATES = frozenset({States.failed, States.dep_fail})
#: States a task ends in.
FINAL_STATES = frozenset({States.exec_done, States.memo_done, *FINAL_FAILURE_STATES})

__all__ = ["States", "FINAL_STATES", "FINAL_FAILURE_STATES"]
