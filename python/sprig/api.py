"""The API scripts use under ``sprig run``: app decorators, ``load``/``clear``/``dfk``, waiting.

::

    from sprig import python_app, bash_app, load, Config, ThreadPoolExecutor

    @python_app
    def multiply(a, b):
        return a * b

    with load(Config(executors=[ThreadPoolExecutor(max_threads=4)])):
        print(multiply(5, 9).result())      # 45

The work is done by the engine, the built-in module ``_sprig_engine`` that ``sprig run`` puts in
the interpreter. Decorating works anywhere; *calling* an app, and ``load``, need the engine (a
clear :class:`~sprig.errors.EngineNotAvailableError`, a ``RuntimeError``, says so otherwise) and a
loaded config (:class:`~sprig.errors.NoConfigLoadedError`, also a ``RuntimeError``).

App caching works as in Parsl (``@python_app(cache=True)``, ``ignore_for_cache=[...]``,
``Config(memoizer=BasicMemoizer(checkpoint_mode=...))``, see :mod:`sprig.memoizer`), plus
``cache="code"``; the engine does it. A cached join app's final value (that of the futures its
function returned) is what is cached, as in Parsl.

This module holds the loaded config (:class:`DataFlowKernel`) and the engine; the decorators and
app classes live in :mod:`sprig.app_submission` and are importable from here too.
"""

from __future__ import annotations

import sys
import threading

from sprig import errors
# The apps stay importable from here, as before they had a module of their own.
from sprig.app_submission import (  # noqa: F401
    AUTO_LOGNAME, App, BashApp, JoinApp, PythonApp, _lifted, app_name, bash_app, join_app, python_app,
)
from sprig.config import Config
from sprig.futures import AppFuture

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

_engine_module: Any = None


def _engine() -> Any:
    """The ``_sprig_engine`` module, or :class:`~sprig.errors.EngineNotAvailableError`."""
    global _engine_module
    engine = _engine_module
    if engine is None:
        engine = sys.modules.get("_sprig_engine")
        if engine is None:
            try:
                import _sprig_engine as engine  # type: ignore[import-not-found, no-redef]
            except ImportError:
                raise errors.EngineNotAvailableError() from None
        _engine_module = engine
    return engine


def _loaded_engine() -> Any:
    engine = _engine()
    if not engine.loaded():
        raise errors.NoConfigLoadedError()
    return engine


# MARK: tasks of the loaded config

#: Unfinished tasks of the loaded config by task id (``dfk().tasks``); a task leaves when it ends.
_live: dict[int, AppFuture] = {}

#: What ``std_autopath`` gave, by (task id, stream): asked once, so every reader gets the same object.
_autopaths: dict[tuple[int, str], Any] = {}


def _autopath(tid: int, app: str, stream: str, label: str | None = None, future: AppFuture | None = None) -> Any:
    """The target of ``stream=AUTO_LOGNAME`` for task ``tid``: the loaded config's
    ``std_autopath(task_record, stream)`` (asked once per task and stream), else Sprig's file
    under the run directory. The engine calls this when the task starts; the future when read."""
    key = (tid, stream)
    # Kept on the future once there is one; until then (the engine may ask first, while the call
    # is being submitted) in _autopaths, which the call then empties.
    cache = future.__dict__.setdefault("_sprig_autopaths", {}) if future is not None else None
    if cache is not None and stream in cache:
        return cache[stream]
    if key in _autopaths:
        target = _autopaths.pop(key) if cache is not None else _autopaths[key]
        if cache is not None:
            cache[stream] = target
        return target
    config = _current.config if _current is not None else None
    chooser = getattr(config, "std_autopath", None)
    if chooser is None:
        return _engine().auto_logname(tid, app, label, stream)
    future = future if future is not None else _live.get(tid)
    record = future.task_record if future is not None else {"id": tid, "func_name": app.rsplit(".", 1)[-1]}
    record.setdefault("try_id", 0)
    target = chooser(record, stream)
    if cache is not None:
        cache[stream] = target
    else:
        _autopaths[key] = target
    return target


# MARK: the loaded config


class DataFlowKernel:
    """The loaded config (Parsl's ``DataFlowKernel``), as returned by :func:`load` and :func:`dfk`.

    ``DataFlowKernel(config)`` loads ``config`` like :func:`load`. Used as a context manager,
    leaving the block cleans up (see ``Config.exit_mode``). After :meth:`cleanup`, or after another
    config was loaded, the object is stale and its methods do nothing.

    ``config`` is the :class:`Config` given to :func:`load`; it is None when the config was loaded
    by ``sprig run --config NAME`` (which also makes a script's own ``load`` a no-op).
    """

    def __init__(self, config: Config | None = None) -> None:
        global _current
        if config is None:
            config = Config()
        if not isinstance(config, Config):
            raise TypeError(f"load: config must be a sprig Config (parsl.config.Config), not {type(config).__name__}")
        engine = _engine()
        if _current is not None and _current.config is not None and engine.loaded():
            raise errors.ConfigAlreadyLoadedError(
                "a config is already loaded; call clear() (or dfk().cleanup()) before loading another")
        spec = config.to_spec()
        log_config = config.initialize_logging if not isinstance(config.initialize_logging, bool) else None
        #: The engine's log target while a log config receives its lines (see :mod:`sprig.log_configs`).
        self._log_target: Any = None
        if log_config is not None:
            from sprig import log_configs

            held = _HeldEngineLines()
            self._log_target = engine.add_log_python(held.emit, 10)
        try:
            engine.load(spec)
        except BaseException:
            if self._log_target is not None:
                engine.remove_log_target(self._log_target)
            raise
        self.config: Config | None = config
        self._log_config = log_config
        if log_config is not None:
            from pathlib import Path

            try:
                log_configs.oneshot_initialize_logging(log_config=log_config, log_dir=Path(engine.run_dir()), log_name="parsl")
            finally:
                held.release()
        from sprig import task_log

        task_log.loaded(engine.run_id(), tuple(e.label for e in config.executors), config.initialize_logging is True)
        if task_log.enabled():
            for executor in config.executors:
                task_log.executor_added(executor)
        #: Whether :meth:`cleanup` has run (Parsl's ``cleanup_called``).
        self.cleanup_called = False
        self._run_dir = engine.run_dir()
        _live.clear()
        _autopaths.clear()
        from sprig import futures
        futures._failed_cached.clear()
        with _final_counts_lock:
            _final_counts.clear()
        _current = self

    @classmethod
    def _attached(cls) -> DataFlowKernel:
        """A handle on a config the engine has loaded without :func:`load` (``sprig run --config``)."""
        kernel = cls.__new__(cls)
        kernel.config = None
        kernel.cleanup_called = False
        engine = _engine_module
        run_dir = getattr(engine, "run_dir", None) if engine is not None else None
        kernel._run_dir = run_dir() if run_dir is not None else None
        return kernel

    def _is_live(self) -> bool:
        engine = _engine_module
        return _current is self and engine is not None and engine.loaded()

    def wait_for_current_tasks(self) -> None:
        """Waits until every task submitted so far is done (failed or not)."""
        if self._is_live():
            _engine_module.wait_for_current_tasks()

    def cleanup(self) -> None:
        """Waits for every task, stops the executors and unloads the config; a later :func:`load`
        works. Does nothing if this config is no longer loaded."""
        self._cleanup(wait=True)

    def _cleanup(self, wait: bool) -> None:
        """:meth:`cleanup`; with ``wait=False``, tasks still waiting for dependencies are left
        unfinished (what executors already hold still runs)."""
        global _current
        if self._is_live():
            try:
                _engine_module.cleanup(wait)
            finally:
                _current = None
                self.cleanup_called = True
                _live.clear()
            from sprig import task_log

            if task_log.enabled():
                task_log.summary(self.task_state_counts)
            self._end_log_config()
        elif _current is self:
            _current = None
            self.cleanup_called = True
            self._end_log_config()

    def _end_log_config(self) -> None:
        """Stops handing the engine's lines to the log config and undoes its set-up."""
        target, self._log_target = getattr(self, "_log_target", None), None
        if target is not None and _engine_module is not None:
            _engine_module.remove_log_target(target)
        log_config, self._log_config = getattr(self, "_log_config", None), None
        if log_config is not None:
            from sprig import log_configs

            log_configs.oneshot_uninitialize_logging(log_config=log_config)

    def task_counts(self) -> dict[str, int]:
        """``{"pending": n, "queued": n, "running": n, "done": n, "failed": n}`` for this config's
        tasks: waiting for dependencies, handed to an executor, on a thread or worker, ended."""
        if self._is_live():
            return dict(_engine_module.task_counts())
        return {"pending": 0, "queued": 0, "running": 0, "done": 0, "failed": 0}

    @property
    def tasks(self) -> dict[int, dict[str, Any]]:
        """The unfinished tasks by task id, each as its task record (Parsl's ``dfk().tasks``)."""
        if not self._is_live():
            return {}
        return {tid: future.task_record for tid, future in list(_live.items())}

    @property
    def task_state_counts(self) -> dict[Any, int]:
        """How many tasks are in each :class:`~sprig.states.States` (Parsl's ``task_state_counts``, a
        ``defaultdict(int)``): ``exec_done``, ``failed`` (cancelled tasks too) and ``dep_fail`` count
        the tasks of the config loaded last that have ended; ``pending``, ``launched`` (handed to an
        executor) and ``running`` those of this config that have not."""
        from collections import defaultdict

        from sprig.states import States

        counts: defaultdict[States, int] = defaultdict(int)
        with _final_counts_lock:
            for name, n in _final_counts.items():
                counts[States[name]] = n
        live = self.task_counts()
        counts[States.pending] += live.get("pending", 0)
        counts[States.launched] += live.get("queued", 0)
        counts[States.running] += live.get("running", 0)
        return counts

    @property
    def task_count(self) -> int:
        """How many tasks have been submitted (Parsl's ``task_count``)."""
        return sum(self.task_counts().values())

    @property
    def executors(self) -> dict[str, Any]:
        """The config's executors by label, then those :meth:`add_executors` added (the config's are
        missing when it came from ``sprig run --config``)."""
        own = {e.label: e for e in self.config.executors} if self.config is not None else {}
        return {**own, **{e.label: e for e in getattr(self, "_added_executors", ())}}

    def add_executors(self, executors: Any) -> None:
        """Starts more executors in this loaded config (Parsl's ``add_executors``); apps naming
        their labels run on them from now on. A label already in use raises ``ValueError``, and
        none of the executors is added then."""
        from sprig.executors import Executor

        added = list(executors)
        for executor in added:
            if not isinstance(executor, Executor):
                raise TypeError(f"add_executors: executors must be executors such as ThreadPoolExecutor() or "
                                f"HighThroughputExecutor(), not {type(executor).__name__}")
        if not self._is_live():
            raise errors.NoDataFlowKernelError("add_executors: this config is not loaded (cleaned up, or another was loaded)")
        _engine_module.add_executors([executor.to_spec() for executor in added])
        self._added_executors = [*getattr(self, "_added_executors", ()), *added]
        from sprig import task_log

        if task_log.enabled():
            for executor in added:
                task_log.executor_added(executor)

    @property
    def memoizer(self) -> Any:
        """The config's :class:`~sprig.memoizer.BasicMemoizer` (Parsl's ``dfk().memoizer``)."""
        if self.config is not None:
            return self.config.memoizer
        from sprig.memoizer import BasicMemoizer
        return BasicMemoizer()

    def checkpoint(self) -> None:
        """Writes this run's cached results that are not yet in its checkpoint store, and returns
        once they are (Parsl's ``dfk().checkpoint()``); nothing when the config writes none."""
        if self._is_live():
            _engine_module.checkpoint()

    @property
    def run_id(self) -> str | None:
        """This run's id (a UUID string, Parsl's ``run_id``): the ``run_id`` of its rows in the
        monitoring database. None once the config is no longer loaded."""
        if self._is_live():
            run_id = _engine_module.run_id()
            if run_id is not None:
                return str(run_id)
        return None

    @property
    def run_dir(self) -> str | None:
        """This run's folder, ``<config.run_dir>/NNN`` (Parsl's ``runinfo/000``): the engine's log,
        block logs, ``task_logs/`` and ``checkpoint/`` are under it. Kept after cleanup, as in Parsl."""
        return None if self._run_dir is None else str(self._run_dir)

    def __enter__(self) -> DataFlowKernel:
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        mode = self.config.exit_mode if self.config is not None else "cleanup"
        if mode == "skip":
            return
        if mode == "wait" and exc_type is None:
            self.wait_for_current_tasks()
        # Leaving on an exception does not wait for tasks that wait on others (Parsl's cleanup
        # does not wait at all): one may wait on a future the failing code would have set.
        self._cleanup(wait=exc_type is None)

    def __repr__(self) -> str:
        state = "loaded" if self._is_live() else "not loaded"
        return f"<DataFlowKernel {state} config={self.config!r}>"


class _HeldEngineLines:
    """The engine's lines for a log config: held from the load (the engine may log before the run
    folder, where the log config writes, is known) until :meth:`release`, then passed on."""

    def __init__(self) -> None:
        self._held: list[tuple[int, str, float]] | None = []
        self._lock = threading.Lock()

    def emit(self, levelno: int, message: str, created: float) -> None:
        with self._lock:
            if self._held is not None:
                self._held.append((levelno, message, created))
                return
        from sprig.log_configs import emit_engine_line

        emit_engine_line(levelno, message, created)

    def release(self) -> None:
        from sprig.log_configs import emit_engine_line

        with self._lock:
            held, self._held = self._held or [], None
        for line in held:
            emit_engine_line(*line)


_current: DataFlowKernel | None = None

#: Ended tasks of the config loaded last, by final state name (``dfk().task_state_counts``).
_final_counts: dict[str, int] = {}
_final_counts_lock = threading.Lock()


def _count_final_state(state: str) -> None:
    """Counts one ended task under ``state`` (``exec_done``, ``memo_done``, ``failed``, ``dep_fail``); the future
    calls this as the engine completes it."""
    with _final_counts_lock:
        _final_counts[state] = _final_counts.get(state, 0) + 1


def load(config: Config | None = None) -> DataFlowKernel:
    """Loads a config and starts its executors; returns the :class:`DataFlowKernel`.

    ``None`` means ``Config()``: one ``ThreadPoolExecutor`` with 2 threads. ``with load(config):``
    cleans up when the block ends. Loading again needs :func:`clear` (or ``dfk().cleanup()``)
    first. Under ``sprig run --config NAME`` the command's config is already loaded and a script's
    ``load`` only returns a handle on it (the engine prints a note).
    """
    return DataFlowKernel(config)


def dfk() -> DataFlowKernel:
    """The loaded config's :class:`DataFlowKernel`; :class:`~sprig.errors.NoConfigLoadedError` if
    none is loaded."""
    global _current
    engine = _loaded_engine()
    if _current is None or not engine.loaded():
        _current = DataFlowKernel._attached()
    return _current


def clear() -> None:
    """Unloads the loaded config, if any, so that another can be loaded: waits for every task and
    stops the executors (Sprig runs one config at a time, so unlike Parsl's ``clear`` this is
    :meth:`DataFlowKernel.cleanup`)."""
    global _current
    try:
        engine = _engine()
    except errors.EngineNotAvailableError:
        engine = None
    try:
        if engine is not None and engine.loaded():
            engine.cleanup()
    finally:
        _current = None


def submit_to(executor: Any, func: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> AppFuture:
    """``executor.submit``: ``func(*args, **kwargs)`` as a Python app on that executor of the loaded
    config. :class:`~sprig.errors.NoConfigLoadedError` when no config is loaded,
    :class:`~sprig.errors.ExecutorError` when the loaded one has no executor of that label."""
    kernel = dfk()
    if kernel.config is not None and all(e is not executor for e in kernel.config.executors):
        labels = ", ".join(repr(e.label) for e in kernel.config.executors)
        raise errors.ExecutorError(f"{type(executor).__name__} {executor.label!r} is not part of the loaded "
                                   f"config (its executors: {labels}); load a Config holding it first")
    return PythonApp(func, executors=[executor.label])(*args, **kwargs)


def wait_for_current_tasks() -> None:
    """Waits until every task submitted so far is done; :class:`~sprig.errors.NoConfigLoadedError`
    if no config is loaded."""
    _loaded_engine().wait_for_current_tasks()


__all__ = [
    "python_app", "bash_app", "join_app", "AUTO_LOGNAME", "App", "PythonApp", "BashApp", "JoinApp", "app_name",
    "load", "clear", "dfk", "wait_for_current_tasks", "DataFlowKernel", "submit_to",
]
