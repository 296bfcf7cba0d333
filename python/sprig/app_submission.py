"""Apps: ``@python_app``, ``@bash_app`` and ``@join_app`` and the :class:`App` objects they make,
whose call submits a task to the engine and returns its :class:`~sprig.futures.AppFuture` at once.

Decorating works anywhere; calling needs the engine and a loaded config, which :mod:`sprig.api`
holds (with the unfinished tasks). Everything here is importable from :mod:`sprig.api` too.
"""

from __future__ import annotations

import functools

from sprig import task_log
from sprig.files import File
from sprig.futures import AppFuture, DataFuture

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any


def app_name(func: Callable[..., Any]) -> str:
    """An app's name: the function's ``__qualname__``, prefixed by its module unless that is
    ``__main__`` (``multiply``, ``mylib.tools.convert``, ``Pipeline.step``)."""
    qualname = getattr(func, "__qualname__", None) or type(func).__qualname__
    module = getattr(func, "__module__", None)
    return f"{module}.{qualname}" if module and module not in ("__main__", "builtins") else qualname


_SPECIAL_KEYWORDS = ("inputs", "outputs", "stdout", "stderr", "walltime")

#: ``stdout=AUTO_LOGNAME`` / ``stderr=AUTO_LOGNAME``: one file per task under the run directory,
#: ``<run_dir>/task_logs/0000/task_0042_<function>[_<label>].stdout`` (Parsl's value, -1).
AUTO_LOGNAME = -1


def _special_defaults(func: Callable[..., Any]) -> dict[str, Any]:
    """The defaults the function's signature gives Parsl's special keywords."""
    import inspect

    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return {}
    return {
        name: parameters[name].default
        for name in _SPECIAL_KEYWORDS
        if name in parameters and parameters[name].default is not inspect.Parameter.empty
        and parameters[name].default is not None
    }


class App:
    """A decorated function: calling it submits a task and returns an :class:`AppFuture` at once.

    It keeps the function's ``__name__``, ``__qualname__``, ``__module__``, ``__doc__`` and
    ``__wrapped__``. ``app_name`` is the name the engine and error messages use; ``func`` is the
    function; ``executors`` the labels the app may run on (None: any).
    """

    kind = "python"

    def __init__(self, func: Callable[..., Any], executors: Sequence[str] | str | None = "all",
                 cache: bool | str = False, data_flow_kernel: Any = None,
                 ignore_for_cache: Sequence[str] | None = None) -> None:
        if not callable(func):
            raise TypeError(f"{type(self).__name__}: {func!r} is not callable")
        functools.update_wrapper(self, func)
        self.func = func
        self.app_name = app_name(func)
        self.executors = _executor_labels(executors)
        if not (isinstance(cache, bool) or cache == "code"):
            raise TypeError(f"app {self.app_name}: cache must be True, False or 'code', not {cache!r}")
        if ignore_for_cache is not None and (isinstance(ignore_for_cache, str)
                                             or not all(isinstance(n, str) for n in ignore_for_cache)):
            raise TypeError(f"app {self.app_name}: ignore_for_cache must be a list of keyword names")
        #: True, False or "code" (keys also cover the app's code: an edited app runs again).
        self.cache = cache
        self.ignore_for_cache = list(ignore_for_cache or ())
        #: What the engine gets for a cached app: (ignore_for_cache, keyed by code).
        self._cache_spec = (self.ignore_for_cache, cache == "code") if cache else None
        self.defaults = _special_defaults(func)

    def __call__(self, *args: Any, **kwargs: Any) -> AppFuture:
        from sprig import api  # (which imports this module)

        engine = api._loaded_engine()
        if self.defaults:
            # Parsl's special keywords take their values from the signature's defaults too
            # (`def echo(stdout='out.txt')` redirects even when the caller names no stdout).
            kwargs = {**self.defaults, **kwargs}
        future = AppFuture(self.app_name, kwargs.get("stdout"), kwargs.get("stderr"), kwargs.get("label"))
        outputs = kwargs.get("outputs")
        if outputs:
            if not isinstance(outputs, (list, tuple)):
                raise TypeError(f"app {self.app_name}: outputs must be a list of File objects or paths, "
                                f"not {type(outputs).__name__}")
            future._outputs = [DataFuture(future, _as_file(self.app_name, o)) for o in outputs]
        future._sprig_func = self.func
        if args or kwargs:
            future._sprig_dependencies = _futures_in(args, kwargs)
        if self._cache_spec is not None:
            future._sprig_cached = True
            tid = engine.submit(self.kind, self.func, args, kwargs, self.executors, future, self.app_name, self._cache_spec)
        else:
            tid = engine.submit(self.kind, self.func, args, kwargs, self.executors, future, self.app_name)
        future._sprig_tid = tid
        if task_log.enabled():
            future._sprig_executors = self.executors
            task_log.submitted(tid, getattr(self.func, "__name__", self.app_name), future._sprig_dependencies)
        if not future.done():  # (completing it needs the GIL this thread holds: no race)
            api._live[tid] = future
        for stream in ("stdout", "stderr"):
            if type(kwargs.get(stream)) is int and kwargs[stream] == AUTO_LOGNAME:
                api._autopath(tid, self.app_name, stream, future._label, future)  # raises here, to the caller, as in Parsl
        return future

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.app_name}>"


class PythonApp(App):
    """A Python function run as an app (``@python_app``)."""

    kind = "python"


class BashApp(App):
    """A function returning a command line, run with bash as an app (``@bash_app``); its value is 0
    when the command exits 0, else the future fails with :class:`~sprig.errors.BashExitFailure`."""

    kind = "bash"


class JoinApp(App):
    """A function that calls apps and returns their future (or a list of futures), run in this
    process as an app (``@join_app``); its value is that future's value (or the list of values)."""

    kind = "join"


def _futures_in(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    """The futures among a call's arguments, anywhere in lists, tuples, sets and dicts (keys too)."""
    from concurrent.futures import Future

    found = []
    stack: list[Any] = [*args, *kwargs.values()]
    while stack:
        value = stack.pop()
        if isinstance(value, Future):
            found.append(value)
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
    return found


def _lift_getitem(value: Any, key: Any) -> Any:
    return value[key]


def _lift_getattr(value: Any, name: str) -> Any:
    return getattr(value, name)


def _lifted(how: str, future: AppFuture, key: Any) -> AppFuture:
    """A future of ``future.result()[key]`` (``how`` = ``"getitem"``) or of its attribute ``key``
    (``"getattr"``), run on an internal thread once ``future`` has succeeded."""
    from sprig import api

    engine = api._loaded_engine()
    name = f"{future.app_name}[{key!r}]" if how == "getitem" else f"{future.app_name}.{key}"
    lifted = AppFuture(name)
    lifted._sprig_dependencies = [future]
    function = _lift_getitem if how == "getitem" else _lift_getattr
    lifted._sprig_tid = engine.submit("lift", function, (future, key), {}, None, lifted, name)
    return lifted


def _executor_labels(executors: Sequence[str] | str | None) -> list[str] | None:
    if executors is None or executors == "all":
        return None
    if isinstance(executors, str):
        return [executors]
    labels = list(executors)
    for label in labels:
        if not isinstance(label, str):
            raise TypeError(f"executors must be executor labels (str) or 'all', not {label!r}")
    return labels or None


def _as_file(app: str, value: Any) -> File:
    if isinstance(value, File):
        return value
    if isinstance(value, DataFuture):
        return value.file_obj
    if isinstance(value, str) or hasattr(value, "__fspath__"):
        return File(value)
    raise TypeError(f"app {app}: outputs must hold File objects or paths, not {type(value).__name__}")


def _decorator(cls: type[App], function: Callable[..., Any] | None, **options: Any) -> Any:
    if function is not None:
        return cls(function, **options)

    def decorate(func: Callable[..., Any]) -> App:
        return cls(func, **options)

    return decorate


def python_app(function: Callable[..., Any] | None = None, data_flow_kernel: Any = None, cache: bool = False,
               executors: Sequence[str] | str = "all", ignore_for_cache: Sequence[str] | None = None) -> Any:
    """Makes a Python function an app: ``@python_app`` or ``@python_app(executors=['label'])``.

    Calling the app returns an :class:`AppFuture` at once; the function runs on an executor when
    the futures among its arguments (anywhere in lists, tuples and dict values, and in
    ``inputs=[...]``) are done, with their values in their place. Parsl's keywords ``inputs``,
    ``outputs`` (files → ``future.outputs``), ``walltime`` (seconds) work as in Parsl.
    ``cache=True`` reuses the result of an earlier call with equal arguments (Parsl's app cache;
    keyword names in ``ignore_for_cache`` left out), ``cache="code"`` also keys on the function's
    code, so an edited app runs again. ``data_flow_kernel`` is accepted and ignored.
    """
    return _decorator(PythonApp, function, executors=executors, cache=cache,
                      data_flow_kernel=data_flow_kernel, ignore_for_cache=ignore_for_cache)


def bash_app(function: Callable[..., Any] | None = None, data_flow_kernel: Any = None, cache: bool = False,
             executors: Sequence[str] | str = "all", ignore_for_cache: Sequence[str] | None = None) -> Any:
    """Makes a function returning a command line an app: ``@bash_app`` or ``@bash_app(...)``.

    The command runs with bash when its arguments are ready; ``stdout=``/``stderr=`` take a path
    (appended to) or ``(path, mode)``. The future's value is 0, or it fails with
    :class:`~sprig.errors.BashExitFailure` (exit code), :class:`~sprig.errors.AppTimeout`, ...
    """
    return _decorator(BashApp, function, executors=executors, cache=cache,
                      data_flow_kernel=data_flow_kernel, ignore_for_cache=ignore_for_cache)


def join_app(function: Callable[..., Any] | None = None, data_flow_kernel: Any = None, cache: bool = False,
             ignore_for_cache: Sequence[str] | None = None) -> Any:
    """Makes a function that launches apps and returns their future (or a list of futures) an app.

    The function runs in this process; the join app's future completes with the returned future's
    value (or the list of values), or fails with :class:`~sprig.errors.JoinError`. ``cache=True``
    caches that final value, as in Parsl: a call equal to an earlier one gets it without running
    the function (``cache="code"`` and ``ignore_for_cache`` as for :func:`python_app`).
    """
    return _decorator(JoinApp, function, executors=None, cache=cache,
                      data_flow_kernel=data_flow_kernel, ignore_for_cache=ignore_for_cache)


__all__ = [
    "python_app", "bash_app", "join_app", "AUTO_LOGNAME", "App", "PythonApp", "BashApp", "JoinApp", "app_name",
]
