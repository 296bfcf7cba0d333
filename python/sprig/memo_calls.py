"""The engine's entry point for cache keys of script and Python app calls (``cache=True``).

The engine (``Sources/Sprig/Apps/AppCaching.swift``) calls :func:`call_key` on its memoizer
thread, holding the GIL, once a cached call's dependencies have succeeded, with the call's
arguments as the app will get them (futures replaced by their values) and its keywords as given
(``stdout=AUTO_LOGNAME`` still the marker). It returns the key of :func:`sprig.memo_keys.task_key`
and whether to look it up: a script's memoizer that overrides ``check_memo`` may say not to.
"""

from __future__ import annotations

import weakref

from sprig.code_fingerprint import code_fingerprint
from sprig.memo_keys import positional_parameters, signature_defaults, task_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

#: What is worked out once per function: (positional names, bash defaults, code fingerprint or None).
_per_function: weakref.WeakKeyDictionary[Any, tuple[tuple[str, ...], dict[str, Any], str | None]] = weakref.WeakKeyDictionary()


def _described(func: Callable[..., Any], bash: bool, by_code: bool) -> tuple[tuple[str, ...], dict[str, Any], str | None]:
    try:
        known = _per_function.get(func)
    except TypeError:  # (not weakly referenceable: worked out each time)
        known = None
    if known is None or (by_code and known[2] is None):
        known = (positional_parameters(func), signature_defaults(func) if bash else {},
                 code_fingerprint(func) if by_code else None)
        try:
            _per_function[func] = known
        except TypeError:
            pass
    return known


def call_key(func: Callable[..., Any], app_name: str, args: Sequence[Any], kwargs: dict[str, Any], bash: bool,
             ignore_for_cache: Sequence[str], by_code: bool, task_id: int) -> tuple[str, bool]:
    """``(key, look_up)`` for one call of a cached app. Raises what :func:`task_key` raises (an
    :class:`~sprig.memo_keys.UnmemoizableError` naming the argument), which fails that call."""
    names, defaults, code = _described(func, bash, by_code)
    if bash and defaults:  # Parsl's bash apps hash every signature default as if passed
        kwargs = {**defaults, **kwargs}
    key = task_key(app_name, tuple(args), kwargs, ignore_for_cache, code if by_code else None, positional_names=names)
    memoizer = _script_memoizer()
    if memoizer is None or not memoizer.overrides_check_memo:
        return key, True
    record = {"id": task_id, "func": func, "func_name": getattr(func, "__name__", app_name), "args": tuple(args),
              "kwargs": kwargs, "hashsum": key, "memoize": True, "ignore_for_cache": list(ignore_for_cache)}
    return key, memoizer.check_memo(record) is not None


def plain_call_shape(func: Callable[..., Any], bash: bool) -> tuple[str, ...] | None:
    """What the engine needs to key plain calls of ``func`` itself, without the GIL
    (``Sources/Sprig/Checkpoints/PlainCallKey.swift``): its positional parameter names; or None when
    its keys must come from :func:`call_key` — a bash app whose function has parameter defaults (they
    are hashed as if passed), or a script's memoizer that overrides ``check_memo``."""
    if bash and signature_defaults(func):
        return None
    names = _described(func, bash, False)[0]
    memoizer = _script_memoizer()
    if memoizer is not None and memoizer.overrides_check_memo:
        return None
    return names


def _script_memoizer() -> Any:
    from sprig import api

    kernel = api._current
    config = kernel.config if kernel is not None else None
    return getattr(config, "memoizer", None)


__all__ = ["call_key", "plain_call_shape"]
