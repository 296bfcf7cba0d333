"""Parsl's structured log records of each task, as :mod:`logging` records of the logger
``parsl.dataflow.dflow`` (Parsl's name) with Parsl's attributes, for code that reads them (Parsl's
tests read them with pytest's ``caplog``):

- at submission: ``Task N has dependency task M`` (``parsl.task``, ``parsl.dependency_task``) for
  each dependency on a task (``parsl.dependency_object`` for another future); ``Task N submitted
  for App A, …`` (``parsl.task``, ``parsl.app_name``); ``Task N initializing state to pending``;
- when the task ends: if it ran, ``Parsl task N try T launched on executor X`` (``parsl.task``,
  ``parsl.try``, ``parsl.executor``) and its ``launched`` state record; then the final state
  (``exec_done``, ``failed``, ``dep_fail``). State records carry ``parsl.dfk``, ``parsl.task`` and
  ``parsl.task_state``.

Sprig's engine launches tasks without calling Python, so the launch records are made when the task
ends, from what Python knows: the executor is named when the app can run on one executor only (its
``executors=[…]``, or a config with one executor), else ``parsl.executor`` is left out; the try
shown is the last one. The engine's own log (``<run>/parsl.log``, one line per event with its real
time) is where launch times are.

Cost: nothing unless a record would reach a handler. Loading a config with
``initialize_logging=True`` (Parsl's default) sets the ``parsl`` logger to DEBUG, as Parsl does, but
adds no handler (the engine writes ``parsl.log``); the records are made only while some handler
would receive them (:meth:`logging.Logger.hasHandlers`, e.g. ``caplog`` or ``set_file_logger``), so
a run nobody listens to pays two level checks per task.
"""

from __future__ import annotations

import logging

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

logger = logging.getLogger("parsl.dataflow.dflow")
_INFO = logging.INFO

#: The run id of the loaded config (``parsl.dfk``), set by :func:`loaded`.
_run_id: str | None = None
#: Labels of the loaded config's executors.
_executors: tuple[str, ...] = ()


def loaded(run_id: str | None, executors: tuple[str, ...], initialize_logging: bool) -> None:
    """Called when a config loads: remembers what the records name; with ``initialize_logging``
    sets the ``parsl`` logger to DEBUG, as Parsl's load does."""
    global _run_id, _executors
    _run_id = run_id
    _executors = executors
    if initialize_logging:
        logging.getLogger("parsl").setLevel(logging.DEBUG)


def enabled() -> bool:
    """Whether a record would reach a handler (the hot path's only cost when none would)."""
    return logger.isEnabledFor(_INFO) and logger.hasHandlers()


def _state(tid: int, state: str, initial: bool) -> None:
    extra = {"parsl.dfk": _run_id, "parsl.task": tid, "parsl.task_state": state}
    if initial:
        logger.info(f"Task {tid} initializing state to {state}", extra=extra)
    else:
        logger.info(f"Task {tid} changing state to {state}", extra=extra)


def submitted(tid: int, app_name: str, dependencies: list[Any]) -> None:
    """The records of a submission (call when :func:`enabled`); ``app_name`` is Parsl's
    ``func_name``, the function's ``__name__``."""
    descriptions = []
    for dependency in dependencies:
        dependency_tid = getattr(dependency, "_sprig_tid", None)
        if isinstance(dependency_tid, int):
            logger.info("Task %s has dependency task %s", tid, dependency_tid,
                        extra={"parsl.task": tid, "parsl.dependency_task": dependency_tid})
            descriptions.append(f"task {dependency_tid}")
        else:
            logger.info("Task %s has dependency future %r", tid, dependency,
                        extra={"parsl.task": tid, "parsl.dependency_object": repr(dependency)})
            descriptions.append(repr(dependency))
    waiting = f"waiting on {', '.join(descriptions)}" if descriptions else "not waiting on any dependency"
    logger.info("Task %s submitted for App %s, %s", tid, app_name, waiting,
                extra={"parsl.task": tid, "parsl.app_name": app_name})
    _state(tid, "pending", initial=True)


def ended(tid: int, state: str, executors: tuple[str, ...] | None, ran: bool, tries: int = 1) -> None:
    """The records of an ended task (call when :func:`enabled`): its launch, if it ran
    (``executors``: the labels its app may use, None for any), then its final state."""
    if ran:
        candidates = executors if executors else _executors
        extra: dict[str, Any] = {"parsl.dfk": _run_id, "parsl.task": tid, "parsl.try": tries - 1}
        if len(candidates) == 1:
            extra["parsl.executor"] = candidates[0]
            logger.info(f"Parsl task {tid} try {tries - 1} launched on executor {candidates[0]}", extra=extra)
        else:
            logger.info(f"Parsl task {tid} try {tries - 1} launched on one of executors {', '.join(candidates)}", extra=extra)
        _state(tid, "launched", initial=False)
    _state(tid, state, initial=False)


__all__ = ["enabled", "submitted", "ended", "loaded"]


def summary(counts: dict[Any, int]) -> None:
    """The records of a cleanup (call when :func:`enabled`): ``Summary of tasks in DFK:``, then one
    ``Tasks in state States.X: N`` per state (zero counts too), then ``End of summary`` — the
    lines Parsl logs as its kernel cleans up, which tools and tests read."""
    from sprig.states import States

    logger.info("Summary of tasks in DFK:")
    for state in States:
        logger.info("Tasks in state %s: %s", state, counts.get(state, 0))
    logger.info("End of summary")


#: The names Parsl scripts know Sprig's executors by, for the records' ``parsl.executor.type``.
_PARSL_TYPES = {"ThreadPoolExecutor": "parsl.executors.threads.ThreadPoolExecutor",
                "HighThroughputExecutor": "parsl.executors.high_throughput.executor.HighThroughputExecutor"}


def executor_added(executor: Any) -> None:
    """The record of an executor a config starts with or :meth:`add_executors` adds (call when
    :func:`enabled`): ``Adding executor L of type T`` with ``parsl.executor.label`` and
    ``parsl.executor.type`` (the class as Parsl names it)."""
    name = type(executor).__name__
    kind = _PARSL_TYPES.get(name, f"{type(executor).__module__}.{name}")
    logger.info("Adding executor %s of type %s", executor.label, kind,
                extra={"parsl.executor.label": executor.label, "parsl.executor.type": kind})
