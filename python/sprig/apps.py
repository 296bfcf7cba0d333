"""Helpers the Swift engine calls when it runs Python and bash apps in-process."""

from __future__ import annotations

import inspect
from typing import Any, Callable


def accepted_keywords(fn: Callable[..., Any]) -> tuple[bool, list[str]]:
    """(takes **kwargs, the names it accepts by keyword) — used to pass Parsl's special keywords
    (inputs, outputs, stdout, stderr) only to functions that declare them."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True, []
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    names = sorted(
        p.name for p in params if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    )
    return var_kw, names


def app_name(fn: Callable[..., Any]) -> str:
    """A readable name for a callable: module.qualname for functions, the class for other callables."""
    qual = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    module = getattr(fn, "__module__", None)
    return f"{module}.{qual}" if module and module not in ("__main__", "builtins") else qual


def watch_futures(returned: Any, settle: Callable[[int, bool, Any], None], tid: int) -> None:
    """Calls ``settle(tid, True, value)`` once every future in ``returned`` has succeeded — ``returned`` is
    one :class:`concurrent.futures.Future` (value: its result) or a list or tuple of them (value:
    the list of results) — or ``settle(tid, False, [(exception, future), ...])`` once they have all ended
    and some failed. Runs ``settle`` on the thread that completes the last future (or at once).

    Raises ``TypeError`` when ``returned`` is not a future or a sequence of futures: what a join
    app must return.
    """
    from concurrent.futures import Future
    import threading

    if isinstance(returned, Future):
        futures, single = [returned], True
    elif isinstance(returned, (list, tuple)) and all(isinstance(f, Future) for f in returned):
        futures, single = list(returned), False
    else:
        raise TypeError("a join app must return a future or a list of futures, not "
                        f"{type(returned).__name__} {returned!r:.80}")

    def all_ended() -> None:
        failures = [(f.exception(), f) for f in futures if f.exception() is not None]
        if failures:
            settle(tid, False, failures)
        else:
            settle(tid, True, futures[0].result() if single else [f.result() for f in futures])

    if not futures:
        all_ended()
        return
    lock = threading.Lock()
    remaining = [len(futures)]

    def one_ended(_future: Any) -> None:
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            all_ended()

    for future in futures:
        future.add_done_callback(one_ended)


def watch_future(future: Any, settle: Callable[[int, bool, Any], None], tid: int) -> None:
    """Calls ``settle(tid, True, result)`` or ``settle(tid, False, exception)`` when ``future`` (any
    :class:`concurrent.futures.Future`) ends: a plain future passed to an app is a dependency."""

    def ended(f: Any) -> None:
        exc = f.exception()
        if exc is None:
            settle(tid, True, f.result())
        else:
            settle(tid, False, exc)

    future.add_done_callback(ended)
