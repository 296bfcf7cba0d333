"""Exceptions of the Python-facing API, with Parsl's names and shapes where Parsl has them.

A failed task's future holds one of these (or, for a Python app that raised, the app's own
exception). The engine reports a failure as a *failure dict*; :mod:`sprig.failure_decoding`
turns it into the exception the user catches (its functions, :func:`exception_from_failure`
among them, are importable from here too).

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
        │   ├── InvalidResourceSpecification  a resource specification the executor does not take
        │   └── BadStateException            the executor gave up starting blocks
        ├── WorkerLost, ManagerLost, SerializationError,
        └── TaskConversionError, KernelShutdownError, SwiftAppError

The classes are defined in :mod:`sprig.setup_errors` (``SprigError``, ``SprigWarning`` and the
errors of a run not set up) and :mod:`sprig.task_errors` (``RemoteException``, ``TaskError`` and
below) and named as this module's own (``sprig.errors.TaskError``): import them from here.

Importing this module is cheap: it imports :mod:`sprig.failure_decoding` only when one of its
functions is first asked for.
"""

from __future__ import annotations

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from typing import Any

from sprig.setup_errors import (  # noqa: F401
    ENGINE_MISSING_MESSAGE, NO_CONFIG_HINT, NO_CONFIG_MESSAGE, ConfigAlreadyLoadedError, ConfigurationError,
    EngineNotAvailableError, NoConfigLoadedError, NoDataFlowKernelError, ParslError, SprigError, SprigWarning,
)
from sprig.task_errors import (  # noqa: F401
    REMOTE_TRACEBACK_HEADER, AppException, AppTimeout, BadStateException, BadStdStreamFile, BashAppNoReturn, BashExitFailure,
    DataFlowException, DependencyError, ExecutorError, InvalidResourceSpecification, JoinError, KernelShutdownError,
    ManagerLost, MissingOutputs, PropagatedException, RemoteException, SerializationError, StdStreamSpecError,
    SwiftAppError, TaskConversionError, TaskError, WorkerLost, describe,
)

# MARK: building exceptions from failure dicts (in sprig.failure_decoding)

_DECODING = ("exception_from_failure", "attach_remote_traceback", "describe_future")


def __getattr__(name: str) -> Any:
    """``sprig.errors.exception_from_failure`` and the other functions of
    :mod:`sprig.failure_decoding`, imported on first use (that module imports this one)."""
    if name in _DECODING:
        from sprig import failure_decoding

        value = getattr(failure_decoding, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SprigError", "ParslError", "SprigWarning", "ConfigurationError", "ConfigAlreadyLoadedError",
    "NoConfigLoadedError", "NoDataFlowKernelError", "EngineNotAvailableError", "RemoteException",
    "TaskError", "AppException", "BashExitFailure", "AppTimeout", "BashAppNoReturn", "MissingOutputs",
    "BadStdStreamFile", "StdStreamSpecError", "DataFlowException", "PropagatedException", "DependencyError", "JoinError",
    "WorkerLost", "ManagerLost", "SerializationError", "ExecutorError", "InvalidResourceSpecification", "BadStateException", "TaskConversionError",
    "KernelShutdownError", "SwiftAppError", "exception_from_failure", "attach_remote_traceback", "describe_future",
]
