"""Configs: where and how apps run (Parsl's ``Config``, executors, providers and channels).

Every object here only describes; ``to_spec()`` turns it into the plain dict the engine loads
(``sprig.load(config)`` does that). Nothing starts until the config is loaded.

Arguments are checked when the object is made: a wrong type raises ``TypeError``, a value out of
range :class:`sprig.errors.ConfigurationError`, and an unknown keyword ``TypeError`` naming it (a
typo must not pass silently). Parsl options that Sprig has no use for are accepted so that Parsl
configs run unchanged; each class lists them in ``PARSL_OPTIONS``. Those that change nothing here
(ports, addresses, usage tracking, logging set-up, ...) are accepted silently; those whose
behaviour Sprig does not provide (monitoring, checkpoints, staging, MPI, ...) emit one
:class:`sprig.errors.SprigWarning` when given a value other than Parsl's default.

Ready-made configs: :func:`local_threads` and :func:`htex_local`.

Executors live in :mod:`sprig.executors`, providers, launchers and channels in
:mod:`sprig.providers`, the argument checks in :mod:`sprig.config_checks`; all are importable
from here too.
"""

from __future__ import annotations

from sprig.config_checks import (
    _check_int, _check_number, _check_str, _Described, _is_empty, _is_none, _take_parsl_options,
)
# The executors, providers and channels stay importable from here, as before they had modules of their own.
from sprig.errors import ConfigurationError, InvalidResourceSpecification, SprigWarning  # noqa: F401
from sprig.executors import Executor, HighThroughputExecutor, ThreadPoolExecutor
from sprig.monitoring import MonitoringHub
from sprig.memoizer import BasicMemoizer  # noqa: F401
from sprig.providers import (  # noqa: F401
    AdHocProvider, Channel, ExecutionProvider, Launcher, LocalChannel, LocalProvider, SimpleLauncher,
    SingleNodeLauncher, SlurmProvider, SrunLauncher, SSHChannel,
)

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any


# MARK: config

_STRATEGIES = {"simple": "simple", "htex_auto_scale": "simple", "none": "none"}
_EXIT_MODES = ("cleanup", "skip", "wait")


class Config(_Described):
    """Where and how apps run (Parsl's ``Config``).

    - ``executors``: executors with unique labels (default: one ``ThreadPoolExecutor()``).
    - ``retries``: how many more times a failing app runs before its future fails.
    - ``run_dir``: the folder for logs (relative to the working directory).
    - ``strategy``: ``'simple'`` (blocks are added while tasks wait, up to ``max_blocks``, and
      removed after ``max_idletime`` seconds idle, down to ``min_blocks``) or ``'none'``/``None``
      (keep ``init_blocks``). Parsl's ``'htex_auto_scale'`` means ``'simple'`` here.
    - ``exit_mode``: what leaving ``with load(config):`` does: ``'cleanup'`` (default) and
      ``'wait'`` wait for every task and unload; ``'skip'`` does nothing.

    - ``memoizer``: a :class:`~sprig.memoizer.BasicMemoizer` (app caching and checkpoints); the
      older ``checkpoint_mode``, ``checkpoint_files``, ``checkpoint_period`` and ``app_cache``
      keywords mean the same (see :mod:`sprig.memoizer`).
    - ``initialize_logging`` (default True): as in Parsl, loading sets the ``parsl`` logger to DEBUG,
      so that Parsl's task records (:mod:`sprig.task_log`) reach handlers such as ``caplog``; no
      handler is added, since the engine writes ``<run>/parsl.log`` itself. False: no ``parsl.log``.
      A log config (``parsl.logconfigs``: ``FileLogging``, ``JSONLogging``, ``NoopLogging`` or your
      own ``LogConfig``) is set up for the run instead, and receives the engine's lines through
      Python's logger ``parsl.sprig`` (see :mod:`sprig.log_configs`).
    - ``monitoring``: a ``MonitoringHub`` (``parsl.monitoring``): the engine writes Parsl's
      monitoring database.

    Parsl options accepted and ignored silently: ``usage_tracking``,
    ``project_name``, ``garbage_collect``, ``internal_tasks_max_threads``,
    ``strategy_period``, ``lazy_errors``, ``data_management_max_threads``; and with a warning when
    set: ``dependency_resolver``.
    - ``std_autopath``: ``std_autopath(task_record, "stdout" | "stderr")`` gives the target of a
      ``stdout=AUTO_LOGNAME`` / ``stderr=AUTO_LOGNAME`` (a path, a ``(path, mode)`` tuple or a
      ``File``); called once per task and stream, when the app is called.
    - ``retry_handler``: ``handler(exception, task_record) -> float``, what a failure costs against
      ``retries`` (default 1 each); a task is retried while its costs add up to at most ``retries``.
      An exception raised by the handler fails the task with that exception. It may also be set
      as an attribute after the config is made, as in Parsl.
    """

    _repr_fields = ("executors", "retries", "run_dir", "strategy", "max_idletime", "exit_mode")
    PARSL_OPTIONS: dict[str, Any] = {
        "usage_tracking": "silent",
        "project_name": "silent",
        "garbage_collect": "silent",
        "internal_tasks_max_threads": "silent",
        "strategy_period": "silent",
        "lazy_errors": "silent",
        "data_management_max_threads": "silent",
        "dependency_resolver": _is_none,
    }

    def __init__(self, executors: Iterable[Executor] | None = None, *, retries: int = 0,
                 run_dir: str = "runinfo", strategy: str | None = "simple", max_idletime: float = 120.0,
                 exit_mode: str = "cleanup", retry_handler: Any = None, std_autopath: Any = None,
                 monitoring: Any = None, memoizer: Any = None, **parsl_options: Any) -> None:
        from sprig.memoizer import from_config_options

        owner = "Config"
        if monitoring is not None and not hasattr(monitoring, "to_spec"):
            raise TypeError(f"{owner}: monitoring must be a MonitoringHub (parsl.monitoring), not {type(monitoring).__name__}")
        self.monitoring = monitoring
        #: The app cache and checkpoint settings (Parsl's ``dfk().memoizer``).
        self.memoizer = from_config_options(memoizer, parsl_options)
        if retry_handler is not None and not callable(retry_handler):
            raise TypeError(f"{owner}: retry_handler must be a function (exception, task_record) -> float, "
                            f"not {type(retry_handler).__name__}")
        self.retry_handler = retry_handler
        if std_autopath is not None and not callable(std_autopath):
            raise TypeError(f"{owner}: std_autopath must be a function (task_record, stream) -> path, "
                            f"not {type(std_autopath).__name__}")
        self.std_autopath = std_autopath
        chosen = tuple(executors) if executors is not None else ()
        if not chosen:
            chosen = (ThreadPoolExecutor(),)
        for executor in chosen:
            if not isinstance(executor, Executor):
                raise TypeError(f"{owner}: executors must be executors such as ThreadPoolExecutor() or "
                                f"HighThroughputExecutor(), not {type(executor).__name__}")
        labels = [e.label for e in chosen]
        if any(not label for label in labels):
            raise ConfigurationError(f"{owner}: an executor has an empty label")
        duplicates = sorted({label for i, label in enumerate(labels) if label in labels[:i]})
        if duplicates:
            raise ConfigurationError(f"{owner}: executors must have unique labels "
                                     f"({', '.join(repr(d) for d in duplicates)} is used more than once)")
        self.executors: tuple[Executor, ...] = chosen
        self.retries = _check_int(owner, "retries", retries, 0)
        self.run_dir = _check_str(owner, "run_dir", run_dir)
        if strategy is None:
            strategy = "none"
        if not isinstance(strategy, str):
            raise TypeError(f"{owner}: strategy must be 'simple', 'none' or None, not {type(strategy).__name__}")
        if strategy not in _STRATEGIES:
            raise ConfigurationError(f"{owner}: unknown strategy {strategy!r}; use 'simple', 'none' or None")
        self.strategy = strategy
        self.max_idletime = _check_number(owner, "max_idletime", max_idletime)
        if exit_mode not in _EXIT_MODES:  # a TypeError, as Parsl's Literal type makes it
            raise TypeError(f"{owner}: exit_mode must be 'cleanup', 'skip' or 'wait', not {exit_mode!r}")
        self.exit_mode = exit_mode
        initialize_logging = parsl_options.pop("initialize_logging", True)
        if not isinstance(initialize_logging, bool) and not _is_log_config(initialize_logging):
            raise TypeError(f"{owner}: initialize_logging must be True, False or a log config "
                            f"(parsl.logconfigs), not {type(initialize_logging).__name__}")
        #: True, False or a :class:`~sprig.log_configs.LogConfig`.
        self.initialize_logging = initialize_logging
        self.parsl_options = _take_parsl_options(owner, parsl_options, self.PARSL_OPTIONS,
                                                 "Sprig has no pluggable dependency resolution yet")

    def to_spec(self) -> dict[str, Any]:
        """The plain dict the engine loads."""
        return {
            "executors": [executor.to_spec() for executor in self.executors],
            "retries": self.retries,
            "run_dir": self.run_dir,
            "strategy": _STRATEGIES[self.strategy],
            "max_idletime": self.max_idletime,
            "retry_handler": self.retry_handler,
            "std_autopath": self.std_autopath is not None,
            "monitoring": self.monitoring.to_spec() if self.monitoring is not None else None,
            "checkpoints": self.memoizer.to_spec(),
            "run_log": self.initialize_logging is True,
        }


def _is_log_config(value: Any) -> bool:
    """Whether ``value`` is a log config (checked without importing logging unless one is given)."""
    import sys

    module = sys.modules.get("sprig.log_configs")
    if module is None:
        if not hasattr(value, "initialize_logging"):
            return False
        from sprig import log_configs as module
    return isinstance(value, module.LogConfig)


# MARK: ready-made configs


def local_threads() -> Config:
    """Parsl's ``parsl.configs.local_threads``: one ``ThreadPoolExecutor()`` (label ``threads``,
    2 threads)."""
    return Config(executors=[ThreadPoolExecutor()])


def htex_local() -> Config:
    """Parsl's ``parsl.configs.htex_local``: one ``HighThroughputExecutor`` labelled ``htex_local``,
    1 core per worker, one ``LocalProvider`` block (``init_blocks=1``, ``max_blocks=1``)."""
    return Config(executors=[HighThroughputExecutor(label="htex_local", cores_per_worker=1,
                                                    provider=LocalProvider(init_blocks=1, max_blocks=1))])


__all__ = [
    "Config", "Executor", "ThreadPoolExecutor", "HighThroughputExecutor", "ExecutionProvider", "LocalProvider", "MonitoringHub",
    "Channel", "LocalChannel", "Launcher", "SingleNodeLauncher", "SimpleLauncher", "SrunLauncher", "SlurmProvider",
    "local_threads", "htex_local",
]
