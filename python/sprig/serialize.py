"""Serialization of functions, calls and results between the interchange and workers.

Functions (and call arguments) are pickled with cloudpickle when it is importable, so functions
from ``__main__``, lambdas and closures travel by value; otherwise with the standard ``pickle``.
Results are pickled with the standard ``pickle`` (highest protocol), falling back to cloudpickle
for values only it can pickle. Everything unpickles with ``pickle.loads``.

cloudpickle is imported only when first needed: checking for it does not import it.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from typing import Any

PROTOCOL = pickle.HIGHEST_PROTOCOL

_MISSING = object()
_cloudpickle: Any = _MISSING  # the module once imported, None when not importable


class SerializationError(Exception):
    """Something could not be pickled or unpickled; the message says what and why."""


class Pickled:
    """Bytes that are already a pickle of an object (e.g. the result of an earlier task).

    The interchange puts these in a call's arguments instead of the object; the worker replaces
    each by ``pickle.loads(data)`` before the call (see :func:`resolve_pickled`).
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = bytes(data)

    def __reduce__(self) -> tuple[Callable[..., "Pickled"], tuple[bytes]]:
        return (Pickled, (self.data,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pickled) and other.data == self.data

    def __hash__(self) -> int:
        return hash(self.data)

    def __repr__(self) -> str:
        return f"Pickled({len(self.data)} bytes)"


PICKLE_ONLY_VARIABLE = "SPRIG_PICKLE_ONLY"


def use_pickle_only() -> None:
    """Serializes without cloudpickle from now on, here and in the worker processes started from
    here (through ``$SPRIG_PICKLE_ONLY``): what a manager does when the engine has no cloudpickle."""
    global _cloudpickle
    os.environ[PICKLE_ONLY_VARIABLE] = "1"
    _cloudpickle = None


def _find_cloudpickle_spec() -> Any:
    """The import spec of cloudpickle, or None; honours ``sys.modules['cloudpickle'] = None`` and
    ``$SPRIG_PICKLE_ONLY``."""
    if os.environ.get(PICKLE_ONLY_VARIABLE) == "1":
        return None
    if "cloudpickle" in sys.modules:
        return sys.modules["cloudpickle"] is not None or None
    from importlib.machinery import PathFinder

    return PathFinder.find_spec("cloudpickle")


def cloudpickle_module() -> Any | None:
    """The cloudpickle module (imported on first call), or None when it is not importable."""
    global _cloudpickle
    if _cloudpickle is _MISSING and os.environ.get(PICKLE_ONLY_VARIABLE) == "1":
        _cloudpickle = None
    if _cloudpickle is _MISSING:
        try:
            import cloudpickle
        except ImportError:
            _cloudpickle = None
        else:
            _cloudpickle = cloudpickle
    return _cloudpickle


def has_cloudpickle() -> bool:
    """Whether cloudpickle is importable (without importing it when possible)."""
    if _cloudpickle is not _MISSING:
        return _cloudpickle is not None
    return bool(_find_cloudpickle_spec())


def serializer_name() -> str:
    """``"cloudpickle"`` when cloudpickle is importable, else ``"pickle"``."""
    return "cloudpickle" if has_cloudpickle() else "pickle"


def serializer_version() -> str:
    """cloudpickle's version (read without importing it when possible), or "" without it."""
    if _cloudpickle is not _MISSING:
        return getattr(_cloudpickle, "__version__", "") if _cloudpickle is not None else ""
    module = sys.modules.get("cloudpickle")
    if module is not None:
        return str(getattr(module, "__version__", ""))
    spec = _find_cloudpickle_spec()
    if not spec:
        return ""
    version = _version_from_source(getattr(spec, "origin", None))
    if version is None:
        module = cloudpickle_module()
        version = str(getattr(module, "__version__", "")) if module is not None else ""
    return version


def _version_from_source(path: str | None) -> str | None:
    """Finds ``__version__ = "x"`` in a package's ``__init__.py`` by reading the text."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as source:
            text = source.read()
    except OSError:
        return None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("__version__") and "=" in stripped:
            value = stripped.split("=", 1)[1].strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                return value[1:-1]
    return None


def _pickler() -> Callable[..., bytes]:
    module = cloudpickle_module()
    return module.dumps if module is not None else pickle.dumps


def _why(exc: BaseException) -> str:
    text = str(exc)
    return text if text else type(exc).__name__


def dumps_function(fn: Callable[..., Any], search_path: list[str] | None = None) -> bytes:
    """Pickles a function (by value with cloudpickle when importable).

    With ``search_path``, unpickling first adds those folders to ``sys.path`` (those it lacks), so a
    function pickled by reference from a module the interchange imported from one of them (after
    the worker started) can be found.
    """
    try:
        data = _pickler()(fn, protocol=PROTOCOL)
    except Exception as exc:
        name = getattr(fn, "__qualname__", None) or type(fn).__name__
        raise SerializationError(f"function {name}: {_why(exc)}") from exc
    if not search_path:
        return data
    return pickle.dumps(_OnSearchPath(tuple(search_path), data), protocol=PROTOCOL)


class _OnSearchPath:
    """A pickled function that extends ``sys.path`` before it is unpickled."""

    __slots__ = ("paths", "data")

    def __init__(self, paths: tuple[str, ...], data: bytes) -> None:
        self.paths = paths
        self.data = data

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[tuple[str, ...], bytes]]:
        return (_load_on_search_path, (self.paths, self.data))


def _load_on_search_path(paths: tuple[str, ...], data: bytes) -> Any:
    missing = [p for p in paths if p and p not in sys.path]
    sys.path[:0] = missing
    return pickle.loads(data)


def dumps_call(args: tuple, kwargs: dict) -> bytes:
    """Pickles ``(args, kwargs)``; on failure the error names the argument that cannot be pickled.

    Positional arguments are numbered from 1 ("argument 1: ..."); keywords by name
    ("keyword argument 'x': ...").
    """
    dumps = _pickler()
    call = (tuple(args), dict(kwargs))
    try:
        return dumps(call, protocol=PROTOCOL)
    except Exception as exc:
        culprit = _find_culprit(dumps, call[0], call[1])
        if culprit is None:
            raise SerializationError(f"arguments: {_why(exc)}") from exc
        label, error = culprit
        raise SerializationError(f"{label}: {_why(error)}") from exc


def _find_culprit(dumps: Callable[..., bytes], args: tuple, kwargs: dict) -> tuple[str, BaseException] | None:
    for index, value in enumerate(args, start=1):
        try:
            dumps(value, protocol=PROTOCOL)
        except Exception as exc:
            return f"argument {index}", exc
    for name, value in kwargs.items():
        try:
            dumps(value, protocol=PROTOCOL)
        except Exception as exc:
            return f"keyword argument {name!r}", exc
    return None


def dumps_result(value: Any) -> bytes:
    """Pickles a result with the standard pickle (highest protocol), or cloudpickle if needed."""
    try:
        return pickle.dumps(value, protocol=PROTOCOL)
    except Exception as first:
        module = cloudpickle_module()
        if module is not None:
            try:
                return module.dumps(value, protocol=PROTOCOL)
            except Exception:
                pass
        raise SerializationError(f"a result of type {_type_name(value)} cannot be pickled: {_why(first)}") from first


def loads(data: Any) -> Any:
    """Unpickles bytes made by any function of this module (or by pickle/cloudpickle)."""
    return pickle.loads(data)


def _type_name(value: Any) -> str:
    kind = type(value)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def resolve_pickled(value: Any) -> Any:
    """Replaces every :class:`Pickled` in ``value`` (itself, or nested in lists, tuples, sets,
    frozensets, dict keys and values) by the object it holds. Containers without any are returned
    as they are."""
    kind = type(value)
    if kind is Pickled:
        return pickle.loads(value.data)
    if kind is tuple or kind is list or kind is set or kind is frozenset:
        changed = False
        items = []
        for item in value:
            new = resolve_pickled(item)
            changed = changed or new is not item
            items.append(new)
        if not changed:
            return value
        return items if kind is list else kind(items)
    if kind is dict:
        changed = False
        pairs = {}
        for key, item in value.items():
            new_key, new = resolve_pickled(key), resolve_pickled(item)
            changed = changed or new_key is not key or new is not item
            pairs[new_key] = new
        return pairs if changed else value
    return value


def resolve_call(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """:func:`resolve_pickled` over a call's positional and keyword arguments."""
    return resolve_pickled(tuple(args)), resolve_pickled(dict(kwargs))
