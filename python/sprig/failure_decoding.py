"""Failure dicts into exceptions: the engine reports a failed task as a *failure dict*;
:func:`exception_from_failure` builds the exception (one of :mod:`sprig.errors`, or the app's
own) that the task's future fails with.

These functions are also importable from :mod:`sprig.errors`, where they have always been.
Importing this module is cheap: ``pickle`` is imported only to rebuild a pickled exception.
"""

from __future__ import annotations

from collections.abc import Sequence

from sprig.errors import (
    REMOTE_TRACEBACK_HEADER, AppTimeout, BadStateException, BadStdStreamFile, BashAppNoReturn, BashExitFailure, DependencyError,
    ExecutorError, InvalidResourceSpecification, JoinError, KernelShutdownError, ManagerLost, MissingOutputs,
    RemoteException, SerializationError, StdStreamSpecError, SwiftAppError, TaskConversionError, TaskError,
    WorkerLost,
)
from sprig.files import File

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from typing import Any

_SIMPLE_KINDS: dict[str, type[TaskError]] = {
    cls.kind: cls
    for cls in (WorkerLost, ManagerLost, SerializationError, ExecutorError, BadStateException, TaskConversionError,
                KernelShutdownError, SwiftAppError)
}

_typeguard_spec_error: type[StdStreamSpecError] | None = None


def _std_stream_spec_error(message: str, task_id: int | None, app: str) -> StdStreamSpecError:
    """A :class:`StdStreamSpecError`, also a ``typeguard.TypeCheckError`` when typeguard ≥ 3 is
    importable (Parsl's own tests catch that type)."""
    global _typeguard_spec_error
    cls: type[StdStreamSpecError] = StdStreamSpecError
    try:
        from typeguard import TypeCheckError  # type: ignore[import-not-found, attr-defined]
    except Exception:
        pass
    else:
        if _typeguard_spec_error is None:
            # (named as in sprig.errors, where it was made before this module was split out)
            _typeguard_spec_error = type("StdStreamSpecError", (StdStreamSpecError, TypeCheckError),
                                         {"__module__": "sprig.errors"})
        cls = _typeguard_spec_error
    exc = cls(message, task_id=task_id, app_name=app)
    if not hasattr(exc, "_path"):
        from collections import deque
        exc._path = deque()  # TypeCheckError's own field, which its __init__ (not run here) sets
    return exc


def exception_from_failure(info: dict[str, Any], dependencies: Sequence[Any] = ()) -> BaseException:
    """The exception a future fails with, built from the engine's failure dict.

    ``kind`` picks the class; ``task_id``, ``app`` and ``message`` are common to every kind. A
    ``python`` failure gives the app's own exception: the object itself when the engine has it,
    else the unpickled ``pickled_exception``, else a :class:`RemoteException`; its traceback is
    attached as a note (see :func:`attach_remote_traceback`). Never raises: a dict it cannot read
    gives a :class:`TaskError` that says so.

    ``dependencies`` are the futures the failed call was given: a ``dependency`` failure then holds
    the very exceptions those futures hold (its immediate failed dependencies, as in Parsl), and its
    ``__cause__`` is the root failure's own exception object.
    """
    try:
        return _build(info, dependencies)
    except Exception as exc:  # a malformed dict must still fail the future, with a reason
        message = info.get("message") if isinstance(info, dict) else None
        return TaskError(f"{message or 'task failed'} (and its failure could not be read: {exc!r})",
                         task_id=_int_or_none(info.get("task_id")) if isinstance(info, dict) else None)


def _build(info: dict[str, Any], dependencies: Sequence[Any] = ()) -> BaseException:
    kind = info.get("kind")
    task_id = _int_or_none(info.get("task_id"))
    app = info.get("app") or "?"
    message = info.get("message") or f"task {task_id} (app {app}) failed ({kind})"
    if kind == "python":
        return _python_exception(info, task_id, app)
    if kind == "bash_exit":
        return BashExitFailure(app, int(info.get("exit_code", -1)), task_id=task_id, message=message)
    if kind == "timeout":
        walltime = info.get("walltime")
        return AppTimeout(message, walltime=float(walltime) if walltime is not None else None,
                          task_id=task_id, app_name=app)
    if kind == "cancelled":
        from concurrent.futures import CancelledError

        return CancelledError(message)
    if kind == "bad_std_spec":
        return _std_stream_spec_error(message, task_id, app)
    if kind == "bad_std_stream":
        return BadStdStreamFile(message, path=info.get("path"), task_id=task_id, app_name=app)
    if kind == "missing_outputs":
        missing = [File(p) if isinstance(p, str) else p for p in info.get("missing") or []]
        return MissingOutputs(message, missing, task_id=task_id, app_name=app)
    if kind == "bad_command":
        return BashAppNoReturn(message, task_id=task_id, app_name=app)
    if kind == "dependency":
        root_info = info.get("root")
        root = exception_from_failure(root_info) if isinstance(root_info, dict) else None
        root_tid = _int_or_none(root_info.get("task_id")) if isinstance(root_info, dict) else None
        failed = [int(t) for t in info.get("failed") or []]
        pairs = [(root, f"task {t}") for t in failed] if root is not None else []
        immediate = _failed_dependencies(dependencies)
        if immediate:
            pairs = immediate
            first = pairs[0][0]
            root = first.__cause__ if isinstance(first, DependencyError) and first.__cause__ is not None else first
        return DependencyError(pairs, task_id, app_name=app, message=message, failed_tids=failed,
                               root_cause=root, root_task_id=root_tid)
    if kind == "invalid_resource_spec":
        return InvalidResourceSpecification(info.get("invalid_keys") or (), info.get("reason") or "",
                                            task_id=task_id, app_name=app)
    if kind == "join":
        pairs = []
        for inner in info.get("failures") or []:
            if isinstance(inner, dict):
                pairs.append((exception_from_failure(inner), f"task {inner.get('task_id')}"))
        return JoinError(pairs, task_id, app_name=app, message=message)
    cls = _SIMPLE_KINDS.get(kind, TaskError)  # type: ignore[arg-type]
    return cls(message, task_id=task_id, app_name=app)


def _failed_dependencies(dependencies: Sequence[Any]) -> list[tuple[BaseException, str]]:
    """(exception, description) for each future among ``dependencies`` that has failed, once each
    (see :func:`describe_future`)."""
    seen: set[int] = set()
    failed = []
    for future in dependencies:
        try:
            if not future.done() or id(future) in seen:
                continue
            if future.cancelled():
                from concurrent.futures import CancelledError

                exc: BaseException | None = CancelledError(f"task {getattr(future, 'tid', '?')} was cancelled")
            else:
                exc = future.exception(timeout=0)
        except BaseException:
            continue
        seen.add(id(future))
        if exc is not None:
            failed.append((exc, describe_future(future)))
    return failed


def describe_future(future: Any) -> str:
    """How a dependency failure names a failed dependency, as Parsl does: ``task N`` for an app's
    future, ``DataFuture from task N`` for an output file's, the ``repr`` of any other future."""
    from sprig.futures import AppFuture, DataFuture

    if isinstance(future, AppFuture):
        return f"task {future.tid}"
    if isinstance(future, DataFuture):
        return f"DataFuture from task {future.tid}"
    return repr(future)


def _python_exception(info: dict[str, Any], task_id: int | None, app: str) -> BaseException:
    traceback_text = info.get("traceback") or ""
    exc = info.get("exception")
    if not isinstance(exc, BaseException):
        exc = _unpickle_exception(info.get("pickled_exception"))
    if exc is None:
        exc = RemoteException(info.get("type") or "Exception", info.get("exc_message") or "", traceback_text,
                              task_id=task_id, app_name=app)
    if exc.__traceback__ is None:  # an exception raised in this process already shows its frames
        attach_remote_traceback(exc, traceback_text, task_id, app)
    return exc


def _unpickle_exception(data: Any) -> BaseException | None:
    if not data:
        return None
    import pickle

    try:
        value = pickle.loads(data)
    except Exception:
        return None
    return value if isinstance(value, BaseException) else None


def attach_remote_traceback(exc: BaseException, traceback_text: str, task_id: int | None, app: str) -> None:
    """Adds ``traceback_text`` to ``exc`` as a note (shown when the exception is printed uncaught),
    headed ``Remote traceback (task N, app X):`` — once: nothing is added if ``exc`` already has
    such a note."""
    text = traceback_text.rstrip("\n")
    if not text:
        return
    notes = getattr(exc, "__notes__", None)
    if isinstance(notes, list) and any(isinstance(n, str) and n.startswith(REMOTE_TRACEBACK_HEADER) for n in notes):
        return
    try:
        exc.add_note(f"{REMOTE_TRACEBACK_HEADER} (task {task_id}, app {app}):\n{text}")
    except Exception:
        pass


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


__all__ = ["exception_from_failure", "attach_remote_traceback", "describe_future"]
