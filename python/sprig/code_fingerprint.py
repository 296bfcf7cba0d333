"""Fingerprints of app code, for ``cache="code"``: an edited app gets new cache keys, an unchanged
one keeps its keys across runs and processes.

:func:`code_fingerprint` is a SHA-256 hex digest of the app function as compiled, which the engine
passes to :func:`sprig.memo_keys.task_key` as ``code``. For a bash app the function is its command
template, so the fingerprint covers the template, not the programs the command runs.

Covered, for the function and each function it wraps (the ``__wrapped__`` chain that
:func:`functools.wraps` and Sprig's apps leave, so a decorator's code and the decorated body both count):

- the bytecode, the exception table and the flags (``async``, generator, ``from __future__`` ...);
- the constants, docstring included, and recursively every nested code object: functions,
  lambdas, classes and comprehensions defined inside the app;
- the names it uses (globals, attributes), its local, free and cell variable names, the argument
  counts;
- the parameter defaults, positional and keyword-only, by :func:`~sprig.memo_keys.id_for_memo`;
- the Python implementation and version (``cpython-311``): bytecode changes between versions.

Not covered, so an edit there keeps the old keys:

- the code of helper functions the app calls, unless they are defined inside it: a module-level
  helper, an imported module, a method of a class defined elsewhere;
- the values of globals the app reads (only their names), and the values a closure captured;
- line numbers and the file name: moving the app in its file or adding a comment above it keeps
  its keys (a comment inside it too; its docstring, being a constant, does not).
"""

from __future__ import annotations

import struct
import sys
import types

from sprig.memo_keys import encode_named, framed, id_for_memo

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from typing import Any

_NUMBERS = struct.Struct(">IIIQ")
_COMPLEX = struct.Struct(">dd")


def code_fingerprint(func: Any, app_name: str | None = None) -> str:
    """A 64-character hex digest of ``func``'s code (see the module docstring for what it covers).

    ``func`` is a function, or anything whose ``__wrapped__`` chain reaches one (an app object, a
    decorated function, a bound method's function). ``app_name`` names the app in errors.

    Raises :class:`TypeError` when no Python function is found (a builtin, a callable object), and
    :class:`~sprig.memo_keys.UnmemoizableError` when a parameter default has no id_for_memo rule.
    """
    import hashlib

    name = app_name or getattr(func, "__qualname__", None) or type(func).__qualname__
    parts = [sys.implementation.cache_tag.encode()]
    seen: set[int] = set()
    current = func
    while current is not None and id(current) not in seen:  # (a __wrapped__ loop ends here)
        seen.add(id(current))
        function = getattr(current, "__func__", current)  # a bound method: its function
        if isinstance(getattr(function, "__code__", None), types.CodeType):
            parts.append(_function(function, name))
        current = getattr(current, "__wrapped__", None)
    if len(parts) == 1:
        raise TypeError(f"cannot fingerprint the code of app {name!r}: {type(func).__qualname__} has no Python "
                        "function to read (cache='code' needs an app made from a def or a lambda)")
    return hashlib.sha256(framed(b"F", parts)).hexdigest()


def _function(function: Any, app_name: str) -> bytes:
    code = function.__code__
    context = f"cannot fingerprint the code of app {app_name!r}"
    defaults = function.__defaults__ or ()
    first = code.co_argcount - len(defaults)
    positional = [encode_named(value, False, context, f"the default of parameter {code.co_varnames[first + i]!r}",
                               code.co_varnames[first + i])
                  for i, value in enumerate(defaults)]
    keyword_only = [framed(b"k", [name.encode(), encode_named(value, False, context,
                                                              f"the default of parameter {name!r}", name)])
                    for name, value in sorted((function.__kwdefaults__ or {}).items())]
    return framed(b"f", [_code(code), framed(b"d", positional), framed(b"w", keyword_only)])


def _names(names: tuple[str, ...]) -> bytes:
    return framed(b"n", [name.encode("utf-8", "surrogatepass") for name in names])


def _code(code: types.CodeType) -> bytes:
    """A code object as bytes: everything that decides what it does, nothing about where it sits
    (no line table, first line or file name)."""
    return framed(b"c", [
        code.co_name.encode("utf-8", "surrogatepass"),
        code.co_code,  # (from 3.11, without the specialisations the interpreter adds while running it)
        getattr(code, "co_exceptiontable", b""),
        _NUMBERS.pack(code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount, code.co_flags),
        framed(b"t", [_constant(value) for value in code.co_consts]),
        _names(code.co_names), _names(code.co_varnames), _names(code.co_freevars), _names(code.co_cellvars),
    ])


def _constant(value: object) -> bytes:
    if isinstance(value, types.CodeType):
        return _code(value)
    if type(value) is tuple:
        return framed(b"t", [_constant(item) for item in value])
    if type(value) is frozenset:  # (`x in {'a', 'b'}` compiles to one; its order differs per process)
        return framed(b"z", sorted(_constant(item) for item in value))
    if type(value) is complex:
        return b"j" + _COMPLEX.pack(value.real, value.imag)
    if value is Ellipsis:
        return b"E"
    return id_for_memo(value)  # None, bool, int, float, str, bytes


__all__ = ["code_fingerprint"]
