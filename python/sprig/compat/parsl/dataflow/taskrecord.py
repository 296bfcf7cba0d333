"""Parsl's ``parsl.dataflow.taskrecord``: :class:`TaskRecord`, the type of a task record.

Sprig's task records (``future.task_record``, ``dfk().tasks``, what a memoizer's ``check_memo``
gets) are plain dicts with Parsl's keys, so ``TaskRecord`` is ``dict`` here (a ``TypedDict`` in
Parsl, which is a ``dict`` at run time too).
"""

TaskRecord = dict

__all__ = ["TaskRecord"]
