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
