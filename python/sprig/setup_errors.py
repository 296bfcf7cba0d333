"""The base of Sprig's own exceptions, :class:`SprigError` (Parsl's ``ParslError``), and the
errors of a run that is not set up: a configuration that cannot work, no config loaded, the
engine missing; also :class:`SprigWarning`. Task failures are :mod:`sprig.task_errors`.

Every class here is public as ``sprig.errors.<name>`` (see :func:`name_in_errors`): import them
from :mod:`sprig.errors`.
"""

from __future__ import annotations

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from typing import Any


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


def name_in_errors(namespace: dict[str, Any]) -> None:
    """Names every class a module defines (``namespace``: its globals) as one of
    :mod:`sprig.errors`, their public home: tracebacks, pickles and ``describe`` then say
    ``sprig.errors.<name>``, as before the classes were split out of that module."""
    for value in list(namespace.values()):
        if isinstance(value, type) and value.__module__ == namespace["__name__"]:
            value.__module__ = "sprig.errors"


name_in_errors(globals())
