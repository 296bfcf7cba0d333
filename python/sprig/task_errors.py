"""Why a task failed, when not by an exception of its own code: :class:`TaskError` and its
subclasses (app failures, missing outputs, failed dependencies and joins, lost workers and
managers, ...), :class:`RemoteException` (an app's exception that could not be rebuilt) and
:func:`describe`. :mod:`sprig.errors` has the class tree; :mod:`sprig.failure_decoding` builds
these from the engine's failure dicts.

Every class here is public as ``sprig.errors.<name>`` (see
:func:`sprig.setup_errors.name_in_errors`): import them from :mod:`sprig.errors`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sprig.files import File
from sprig.setup_errors import SprigError, name_in_errors

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from typing import Any

#: First line of the note that carries a failed Python app's traceback.
REMOTE_TRACEBACK_HEADER = "Remote traceback"


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


class BadStateException(ExecutorError):
    """The executor gave up (Parsl's ``BadStateException``): none of its blocks could start, again
    and again, or one never could (a Python version mismatch). The message says why each block
    failed (a manager that exited says ``EXIT CODE: N``). ``executor`` and ``reason`` as in Parsl;
    Parsl's form ``BadStateException(executor, reason)`` builds one too."""

    kind = "bad_state"

    def __init__(self, *args: Any, task_id: int | None = None, app_name: str | None = None) -> None:
        if len(args) == 2:  # Parsl's (executor, reason)
            executor, reason = args
            label = getattr(executor, "label", executor)
            super().__init__(f"executor {label} is in a bad state: {reason}", task_id=task_id, app_name=app_name)
            self.args = (executor, reason)
            self.executor: Any = executor
            self.reason = str(reason)
        else:
            message = str(args[0]) if args else ""
            super().__init__(message, task_id=task_id, app_name=app_name)
            self.executor = None
            self.reason = message


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


name_in_errors(globals())
