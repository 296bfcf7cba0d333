"""Parsl's ``parsl.concurrent``: :class:`ParslPoolExecutor`, a :class:`concurrent.futures.Executor`
whose calls run as Sprig apps, for code written against ``ProcessPoolExecutor``."""

from __future__ import annotations

import time
import warnings
from concurrent.futures import Executor

from sprig.api import DataFlowKernel, PythonApp, load
from sprig.config import Config

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any


class ParslPoolExecutor(Executor):
    """``submit(fn, *args, **kwargs)`` and ``map(fn, *iterables)`` run ``fn`` as a python app.

    Give either a ``config``, which the executor loads now and cleans up at :meth:`shutdown` (or
    when a ``with`` block ends), or the ``dfk`` of a config loaded elsewhere, which it leaves
    loaded. ``executors``: the labels the apps may run on (``'all'``: any). The futures are app
    futures: they may be passed to other apps as dependencies. Calls cannot be cancelled.
    """

    def __init__(self, config: Config | None = None, dfk: DataFlowKernel | None = None,
                 executors: str | list[str] = "all") -> None:
        if config is not None and dfk is not None:
            raise ValueError("ParslPoolExecutor: Specify only one of config or dfk, not both")
        if config is None and dfk is None:
            raise ValueError("ParslPoolExecutor: Must specify one of config or dfk")
        self.executors = executors
        self._owns_config = config is not None
        self._apps: dict[Callable[..., Any], PythonApp] = {}
        self._dfk: DataFlowKernel | None = load(config) if config is not None else dfk

    @property
    def app_count(self) -> int:
        """How many functions have an app made for them by this executor."""
        return len(self._apps)

    def get_app(self, fn: Callable[..., Any]) -> PythonApp:
        """The python app this executor runs ``fn`` as (made once per function)."""
        app = self._apps.get(fn)
        if app is None:
            app = self._apps[fn] = PythonApp(fn, executors=self.executors)
        return app

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Runs ``fn(*args, **kwargs)`` as an app; returns its future."""
        if self._dfk is None:
            raise RuntimeError("ParslPoolExecutor: the executor has been shut down")
        return self.get_app(fn)(*args, **kwargs)

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any], timeout: float | None = None,
            chunksize: int = 1, buffersize: int | None = None) -> Iterator[Any]:
        """Submits ``fn`` for each tuple of the ``iterables`` at once and yields the results in
        order; raises :class:`TimeoutError` when they are not all there within ``timeout`` seconds
        of this call. ``chunksize`` and ``buffersize`` are accepted and ignored (every call is its
        own task)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        futures = [self.submit(fn, *call) for call in zip(*iterables)]

        def results() -> Iterator[Any]:
            futures.reverse()
            while futures:
                future = futures.pop()  # dropped as it is read: the results are not all held
                if deadline is None:
                    yield future.result()
                else:
                    yield future.result(max(0.0, deadline - time.monotonic()))

        return results()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """With ``wait``, waits for every task submitted so far; cleans up the config if this
        executor loaded it. ``cancel_futures`` is not supported (a warning says so)."""
        if self._dfk is None:
            return
        if cancel_futures:
            warnings.warn("ParslPoolExecutor: cancelling tasks is not supported; they run to the end",
                          UserWarning, stacklevel=2)
        if wait:
            self._dfk.wait_for_current_tasks()
        if self._owns_config:
            self._dfk.cleanup()
        self._dfk = None

    def __exit__(self, *exc_info: Any) -> None:
        if self._dfk is not None and self._owns_config:
            self.shutdown(wait=True)


__all__ = ["ParslPoolExecutor"]
