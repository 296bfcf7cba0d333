"""Exceptions of the Python-facing API, with Parsl's names and shapes where Parsl has them.

A failed task's future holds one of these (or, for a Python app that raised, the app's own
exception). The engine reports a failure as a *failure dict* (see :func:`exception_from_failure`);
this module turns it into the exception the user catches.

Class tree (Parsl's names are also importable from the ``parsl`` compatibility package)::

    SprigError (alias ParslError)
    ├── ConfigurationError
    │   └── ConfigAlreadyLoadedError        (also a RuntimeError)
    ├── NoConfigLoadedError                  (also a RuntimeError; alias NoDataFlowKernelError)
    ├── EngineNotAvailableError              (also a RuntimeError)
    ├── RemoteException                      a Python app's exception that could not be rebuilt
    └── TaskError                            a task failed for a reason other than its own exception
        ├── AppException
        │   ├── BashExitFailure              bash app exited non-zero
        │   ├── AppTimeout                   walltime exceeded
        │   └── BashAppNoReturn              a bash app's function gave no command line
        ├── MissingOutputs
        ├── BadStdStreamFile
        ├── DataFlowException
        │   └── PropagatedException
        │       ├── DependencyError          a dependency failed, so the task never ran
        │       └── JoinError                tasks a join app waited for failed
        ├── ExecutorError
        │   └── InvalidResourceSpecification  a resource specification the executor does not take
        ├── WorkerLost, ManagerLost, SerializationError,
        └── TaskConversionError, KernelShutdownError, SwiftAppError

Importing this module is cheap: ``pickle`` is imported only to rebuild a pickled exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sprig.files import File

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from typing import Any

#: First line of the note that carries a failed Python app's traceback.
REMOTE_TRACEBACK_HEADER = "Remote traceback"


class SprigError(Exception):
    """Base class of Sprig's own exceptions (Parsl's ``ParslError``)."""


ParslError = SprigError


class SprigWarning(UserWarning):
    """A Parsl option or app setting that Sprig accepts but does not act on."""


class ConfigurationError(SprigError):
    """A configuration cannot work: no executors, duplicate labels, a value out of range."""


class ConfigAlreadyLoadedError(ConfigurationError, RuntimeError):
    """``load()`` was called while a config loaded by this script is still loaded."""


class NoConfigLoadedError(SprigError, RuntimeError):
    """An app was called (or ``dfk()`` asked for) before any config was loaded."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or NO_CONFIG_MESSAGE)
        if message is None:
            self.add_note(NO_CONFIG_HINT)  # shown with the traceback; str() stays Parsl's words


NoDataFlowKernelError = NoConfigLoadedError

NO_CONFIG_MESSAGE = "Must first load config"  # Parsl's words for this error (NoDataFlowKernelError)
NO_CONFIG_HINT = ("no config is loaded — call parsl.load(config) / sprig.load(config) first, "
                  "or run with `sprig run --config threads|htex script.py`")


class EngineNotAvailableError(SprigError, RuntimeError):
    """The Sprig engine is not in this interpreter: the script was not started by ``sprig run``."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or ENGINE_MISSING_MESSAGE)


ENGINE_MISSING_MESSAGE = (
    "Sprig apps run under the sprig command: start this script with `sprig run script.py` "
    "(the _sprig_engine module is not available in this Python interpreter)"
)


class RemoteException(SprigError):
    """A Python app raised an exception that could not be rebuilt here (its type could not be
    unpickled). Keeps the exception's qualified type name, message and the remote traceback."""

    def __init__(self, type_name: str, message: str = "", traceback: str = "", *,
                 task_id: int | None = None, app_name: str | None = None) -> None:
        super().__init__(type_name, message, traceback)
        self.type_name = type_name
        self.exc_message = message
        self.remote_traceback = traceback
        self.task_id = task_id
        self.app_name = app_name

    def __str__(self) -> str:
        return f"{self.type_name}: {self.exc_message}" if self.exc_message else self.type_name


# MARK: task failures


class TaskError(SprigError):
    """A task failed for a reason other than an exception raised by its own Python code.

    ``str(error)`` is the engine's description, which names the task and the app. Attributes:
    ``task_id`` (Parsl's tid), ``app_name``, ``kind`` (the engine's failure kind) and ``message``.
    """

    kind = "task"

    def __init__(self, message: str = "", *, task_id: int | None = None, app_name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.task_id = task_id
        self.app_name = app_name

    def __str__(self) -> str:
        return self.message


class AppException(TaskError):
    """An app failed while it ran (Parsl's ``AppException``)."""

    kind = "app"


class BashExitFailure(AppException):
    """A bash app's command exited with a non-zero code (127: command not found; 128+N: killed by
    signal N). ``app_name`` and ``exitcode`` as in Parsl."""

    kind = "bash_exit"

    def __init__(self, app_name: str, exitcode: int, *, task_id: int | None = None, message: str = "") -> None:
        super().__init__(message, task_id=task_id, app_name=app_name)
        self.args = (app_name, exitcode)
        self.exitcode = exitcode

    def __str__(self) -> str:
        return f"bash_app {self.app_name} failed with unix exit code {self.exitcode}"


class AppTimeout(AppException):
    """An app ran past its walltime (``walltime``: seconds). A bash app's processes were killed."""

    kind = "timeout"

    def __init__(self, message: str = "", *, walltime: float | None = None,
                 task_id: int | None = None, app_name: str | None = None) -> None:
        super().__init__(message, task_id=task_id, app_name=app_name)
        self.walltime = walltime


class BashAppNoReturn(AppException):
    """A bash app's function did not give a command line (it raised, or did not return a string)."""

    kind = "bad_command"

    def __init__(self, reason: str = "", *, task_id: int | None = None, app_name: str | None = None) -> None:
        super().__init__(reason, task_id=task_id, app_name=app_name)
        self.reason = reason


class MissingOutputs(TaskError):
    """The app succeeded but did not write some of its declared ``outputs`` (``outputs``: the
    missing files as :class:`sprig.File`; ``reason``: the engine's description)."""

    kind = "missing_outputs"

    def __init__(self, reason: str, outputs: Sequence[File | str], *,
                 task_id: int | None = None, app_name: str | None = None) -> None:
        super().__init__(reason, task_id=task_id, app_name=app_name)
        self.args = (reason, list(outputs))
        self.reason = reason
        self.outputs = list(outputs)

    def __str__(self) -> str:
        files = ", ".join(f"File({f.url!r})" if isinstance(f, File) else repr(f) for f in self.outputs)
        return f"Missing Outputs: [{files}], Reason: {self.reason}"


class BadStdStreamFile(TaskError):
    """A ``stdout``/``stderr`` target could not be opened (``path``: the target)."""

    kind = "bad_std_stream"

    def __init__(self, reason: str, *, path: str | None = None,
                 task_id: int | None = None, app_name: str | None = None) -> None:
        super().__init__(reason, task_id=task_id, app_name=app_name)
        self._reason = reason
        self.path = path

    @property
    def reason(self) -> str:
        return self._reason

    def __str__(self) -> str:
        return f"Bad Stream File: {self._reason}"


class StdStreamSpecError(TaskError, TypeError):
    """A ``stdout``/``stderr`` spec of the wrong shape or types: a list instead of a tuple, a tuple
    of 1 or 3 items, a path or mode that is not a string (Parsl rejects these with a type check,
    typeguard's ``TypeCheckError``; when typeguard is importable the exception is one of those too)."""

    kind = "bad_std_spec"

    def __str__(self) -> str:
        return self.message


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
            _typeguard_spec_error = type("StdStreamSpecError", (StdStreamSpecError, TypeCheckError),
                                         {"__module__": __name__})
        cls = _typeguard_spec_error
    exc = cls(message, task_id=task_id, app_name=app)
    if not hasattr(exc, "_path"):
        from collections import deque
        exc._path = deque()  # TypeCheckError's own field, which its __init__ (not run here) sets
    return exc


class DataFlowException(TaskError):
    """Base of failures that come from other tasks (Parsl's ``DataFlowException``)."""

    kind = "dataflow"


class PropagatedException(DataFlowException):
    """A task failed because other tasks failed.

    ``dependent_exceptions_tids`` is Parsl's list of ``(exception, description)`` pairs (``"task N"``,
    or the ``repr`` of a plain future: see :func:`describe_future`); ``__cause__``
    is the representative root cause (a failure of a task that ran), so an uncaught error prints
    the root cause, with its traceback, first.
    """

    kind = "propagated"
    _failure_description = "Propagated failure"

    def __init__(self, dependent_exceptions_tids: Sequence[tuple[BaseException, str]], task_id: int | None, *,
                 app_name: str | None = None, message: str = "") -> None:
        super().__init__(message, task_id=task_id, app_name=app_name)
        self.args = (list(dependent_exceptions_tids), task_id)
        self.dependent_exceptions_tids = list(dependent_exceptions_tids)
        if self.dependent_exceptions_tids:
            self.__cause__ = self.dependent_exceptions_tids[0][0]

    def _head(self) -> str:
        app = f" (app {self.app_name})" if self.app_name else ""
        return f"{self._failure_description} for task {self.task_id}{app}"


class DependencyError(PropagatedException):
    """The task never ran: tasks it depends on failed. Never retried.

    ``failed_tids``: the task ids of the failed dependencies; ``root_cause``: the failure at the
    bottom of the chain (also ``__cause__``); ``root_task_id``: the task it belongs to.

    Sprig knows the root cause of the chain, not each failed dependency's own exception: in
    ``dependent_exceptions_tids`` every failed dependency is paired with the root cause.
    """

    kind = "dependency"
    _failure_description = "Dependency failure"

    def __init__(self, dependent_exceptions_tids: Sequence[tuple[BaseException, str]], task_id: int | None, *,
                 app_name: str | None = None, message: str = "", failed_tids: Sequence[int] | None = None,
                 root_cause: BaseException | None = None, root_task_id: int | None = None) -> None:
        super().__init__(dependent_exceptions_tids, task_id, app_name=app_name, message=message)
        self.failed_tids = list(failed_tids) if failed_tids is not None else _tids_of(dependent_exceptions_tids)
        if root_cause is None and self.dependent_exceptions_tids:
            root_cause = self.dependent_exceptions_tids[0][0]
        self.root_cause = root_cause
        self.root_task_id = root_task_id
        if root_cause is not None:
            self.__cause__ = root_cause

    def __str__(self) -> str:
        named = [label for _, label in self.dependent_exceptions_tids] or [f"task {tid}" for tid in self.failed_tids]
        text = f"{self._head()}: its dependencies failed ({', '.join(named) or 'unknown tasks'})"
        if self.root_cause is not None:
            where = f"task {self.root_task_id}" if self.root_task_id is not None else "the root cause"
            text += f"; the root cause is {where}: {describe(self.root_cause)}"
        return text


class JoinError(PropagatedException):
    """Tasks that a join app returned (and so waited for) failed; ``failures`` lists them all as
    exceptions (``dependent_exceptions_tids`` pairs each with ``"task N"``)."""

    kind = "join"
    _failure_description = "Join failure"

    @property
    def failures(self) -> list[BaseException]:
        return [exc for exc, _ in self.dependent_exceptions_tids]

    def __str__(self) -> str:
        parts = [f"{tid}: {describe(exc)}" for exc, tid in self.dependent_exceptions_tids]
        if not parts:
            return f"{self._head()}: {self.message}" if self.message else self._head()
        return f"{self._head()}: {len(parts)} joined task(s) failed ({'; '.join(parts)})"


class WorkerLost(TaskError):
    """The worker process running the task died (killed, out of memory, ...); it was replaced."""

    kind = "worker_lost"


class ManagerLost(TaskError):
    """The block's manager died or fell silent past the heartbeat threshold; the block was replaced."""

    kind = "manager_lost"


class SerializationError(TaskError):
    """An argument, the function or the result could not be pickled or unpickled."""

    kind = "serialization"


class ExecutorError(TaskError):
    """The app asked for executors the config does not have, or the executor could not run it."""

    kind = "executor"


class InvalidResourceSpecification(ExecutorError):
    """A task's ``parsl_resource_specification`` names resources its executor does not take
    (Parsl's class): ``invalid_keys`` is the set of those names. A ``HighThroughputExecutor``
    takes ``priority`` only; a ``ThreadPoolExecutor`` takes none."""

    kind = "invalid_resource_spec"

    def __init__(self, invalid_keys: Iterable[str], message: str = "", *, task_id: int | None = None,
                 app_name: str | None = None) -> None:
        self.invalid_keys = set(invalid_keys)
        names = ", ".join(sorted(repr(key) for key in self.invalid_keys))
        text = f"invalid resource specification: {names}" + (f" ({message})" if message else "")
        super().__init__(text, task_id=task_id, app_name=app_name)
        self.args = (self.invalid_keys, message)
        self.reason = message


class TaskConversionError(TaskError):
    """An argument or result could not be converted between Python and the engine."""

    kind = "conversion"


class KernelShutdownError(TaskError):
    """The task was submitted or still waiting when the config was cleaned up."""

    kind = "shutdown"


class SwiftAppError(TaskError):
    """A Swift app (a closure of the host program) threw."""

    kind = "swift"


_SIMPLE_KINDS: dict[str, type[TaskError]] = {
    cls.kind: cls
    for cls in (WorkerLost, ManagerLost, SerializationError, ExecutorError, TaskConversionError,
                KernelShutdownError, SwiftAppError)
}


# MARK: building exceptions from failure dicts


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


def describe(exc: BaseException) -> str:
    """``Type: message`` for an app's own exception, the message alone for Sprig's task errors."""
    if isinstance(exc, (TaskError, RemoteException)):
        return str(exc)
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ in ("builtins", "__main__") else f"{kind.__module__}.{kind.__qualname__}"
    text = str(exc)
    return f"{name}: {text}" if text else name


def _tids_of(pairs: Sequence[tuple[BaseException, str]]) -> list[int]:
    tids = []
    for _, label in pairs:
        tail = str(label).rsplit(" ", 1)[-1]
        if tail.isdigit():
            tids.append(int(tail))
    return tids


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


__all__ = [
    "SprigError", "ParslError", "SprigWarning", "ConfigurationError", "ConfigAlreadyLoadedError",
    "NoConfigLoadedError", "NoDataFlowKernelError", "EngineNotAvailableError", "RemoteException",
    "TaskError", "AppException", "BashExitFailure", "AppTimeout", "BashAppNoReturn", "MissingOutputs",
    "BadStdStreamFile", "StdStreamSpecError", "DataFlowException", "PropagatedException", "DependencyError", "JoinError",
    "WorkerLost", "ManagerLost", "SerializationError", "ExecutorError", "InvalidResourceSpecification", "TaskConversionError",
    "KernelShutdownError", "SwiftAppError", "exception_from_failure", "attach_remote_traceback", "describe_future",
]
