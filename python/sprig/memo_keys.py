"""Cache keys of app calls: what the engine looks a task up by in its app cache and checkpoints.

The engine calls :func:`task_key` when a task is submitted with ``cache=True`` (its futures already
resolved to values, a :class:`~sprig.files.File` passed as itself). The key is a SHA-256 hex digest
of a canonical, type-tagged encoding of the call, so it is the same in every process and every run
of the same Python version: no ``id()``, no ``hash()`` (string hashing is randomised per process),
no pickle (whose bytes change with the protocol and the Python version).

Which values have a key is decided by :func:`id_for_memo`, a :func:`functools.singledispatch`
function with Parsl's name and contract (``parsl.dataflow.memoization.id_for_memo``): it returns
bytes that are equal for "the same" value and different otherwise, and scripts add types with
``@id_for_memo.register(MyType)`` (a rule takes ``(value, output_ref=False)`` and returns bytes;
a rule for a container calls ``id_for_memo`` on its parts). The rules here:

- ``None``, ``bool``, ``int``, ``float``, ``str``: by value and type (``1``, ``True``, ``1.0`` and
  ``'1'`` are four keys, as in Parsl). A subclass of ``int``, ``float`` or ``str`` (an ``IntEnum``,
  a NumPy float) is its value plus its class's module and qualified name.
- ``list``, ``tuple``: their items in order; ``dict``: its items in any order (a dict's key does
  not depend on insertion order). A subclass (a named tuple, an ``OrderedDict``) has no rule,
  as in Parsl: register one.
- a function: by its module and qualified name, not its code (Parsl's rule; two lambdas defined in
  the same scope share a key).
- ``output_ref``: the value of the ``outputs`` keyword is encoded with ``output_ref=True``, passed
  down through lists, tuples, sets and dict values (not dict keys), so a rule may tell an output file
  from an input one. The built-in rules encode both alike.
- anything else raises :class:`UnmemoizableError` (a :class:`ValueError`, as Parsl raises).

Beyond Parsl 2026.10.26, which has no rule for them: ``bytes``; ``set`` and ``frozenset`` (in any
order); and :class:`~sprig.files.File`, by its scheme, host and path (what two files compare by,
``local_path`` aside; the file's content is not read). Parsl also counts a list and a tuple with
the same items as one value; here they are two, so a cached result is never handed to a call whose
argument has another type.

What a call's key covers (Parsl's ``make_hash``): the app's name, the positional arguments in
order, and the keyword arguments by name except those named in ``ignore_for_cache`` and a
``stdout``/``stderr`` given as ``AUTO_LOGNAME``. The call is hashed as given: ``f(1)``,
``f(x=1)`` and ``f(1, y=2)`` (where ``y`` defaults to 2) are three keys, as in Parsl's Python apps.
Parsl's bash apps hash every signature default as if passed; :func:`signature_defaults` gives them
to merge first. With ``cache="code"``, the key also covers the app's code (see
:mod:`sprig.code_fingerprint`).
"""

from __future__ import annotations

import functools
import struct
import types

from sprig.files import File

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any

#: Part of every key: a change to the encoding changes this, so old entries are never matched.
KEY_FORMAT = b"sprig-memo-key/1"

_LENGTH = struct.Struct(">Q")
_DOUBLE = struct.Struct(">d")
_IGNORED = b"I"  # a positional argument named in ignore_for_cache keeps its place


def framed(tag: bytes, parts: Iterable[bytes]) -> bytes:
    """``tag``, the number of parts, then each part after its length: a part's bytes can never
    run into the next one's, whatever they hold (what makes two different values two encodings)."""
    items = list(parts)
    return tag + _LENGTH.pack(len(items)) + b"".join(_LENGTH.pack(len(item)) + item for item in items)


def type_path(cls: type) -> str:
    """``module.QualifiedName`` of a class, the way a script names it (no module for builtins
    and ``__main__``)."""
    module = getattr(cls, "__module__", None)
    return cls.__qualname__ if module in (None, "builtins", "__main__") else f"{module}.{cls.__qualname__}"


class UnmemoizableError(ValueError):
    """A value that :func:`id_for_memo` has no rule for, so the call holding it has no cache key.

    ``value_type`` is the type with no rule; ``path`` says where it sits inside an argument
    (``['[2]', "['k']"]``); ``context`` and ``subject`` (set by :func:`task_key` and
    :func:`~sprig.code_fingerprint.code_fingerprint`) name the app and the argument. The message
    is rebuilt whenever they change, and always says how to register a rule.
    """

    def __init__(self, value_type: type, reason: str = "") -> None:
        self.value_type = value_type
        self.reason = reason
        self.path: list[str] = []
        self.context: str | None = None
        self.subject: str | None = None
        self.root = ""
        super().__init__(self._message())

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # (pickled as its message: the engine hands the exception to the script pickled)
        return (_unmemoizable_from_message, (str(self),))

    def inside(self, segment: str) -> UnmemoizableError:
        """Records that the value sat at ``segment`` (``[0]``, ``['key']``) of the value enclosing it."""
        self.path.insert(0, segment)
        self.args = (self._message(),)
        return self

    def name(self, context: str, subject: str, root: str) -> UnmemoizableError:
        """Names where the value came from: ``context`` (``cannot cache a call of app 'f'``),
        ``subject`` (``argument 'x'``) and ``root``, how a path inside it starts (``x``)."""
        self.context, self.subject, self.root = context, subject, root
        self.args = (self._message(),)
        return self

    def _message(self) -> str:
        name = type_path(self.value_type)
        reason = f" ({self.reason})" if self.reason else ""
        register = f"register one with @id_for_memo.register({name})"
        if self.context is None:
            where = f" at {''.join(self.path)}" if self.path else ""
            return f"id_for_memo has no rule for type {name}{reason}{where}: {register}"
        if self.path:
            what = f"{self.subject} holds a value of type {name}{reason} at {self.root}{''.join(self.path)}"
        else:
            what = f"{self.subject} has type {name}{reason}"
        return f"{self.context}: {what}, which id_for_memo has no rule for ({register})"


def _unmemoizable_from_message(message: str) -> UnmemoizableError:
    """An :class:`UnmemoizableError` saying ``message``, as unpickled in another process."""
    error = UnmemoizableError.__new__(UnmemoizableError)
    ValueError.__init__(error, message)
    error.value_type, error.reason, error.path = object, "", []
    error.context = error.subject = None
    error.root = ""
    return error


# MARK: the rules


@functools.singledispatch
def id_for_memo(obj: object, output_ref: bool = False) -> bytes:
    """Bytes that identify ``obj`` for the app cache: equal for "the same" value, different
    otherwise, in every process and run (the module docstring lists the rules).

    ``output_ref`` is True inside the ``outputs`` keyword's value. Add a type with
    ``@id_for_memo.register(MyType)`` on a function ``(value, output_ref=False) -> bytes``.
    Raises :class:`UnmemoizableError` for a type with no rule.
    """
    raise UnmemoizableError(type(obj))


def _exact_or_subclass(obj: object, base: type, encoding: bytes) -> bytes:
    """``encoding`` for a value of exactly ``base``; for a subclass's, the class named in front."""
    if type(obj) is base:
        return encoding
    return framed(b"X", [type_path(type(obj)).encode(), encoding])


@id_for_memo.register(type(None))
def _none(obj: None, output_ref: bool = False) -> bytes:
    return b"N"


@id_for_memo.register(bool)
def _bool(obj: bool, output_ref: bool = False) -> bytes:
    return b"T" if obj else b"F"


@id_for_memo.register(int)
def _int(obj: int, output_ref: bool = False) -> bytes:
    # (the unbound methods read the integer itself, past any override in a subclass)
    size = int.bit_length(obj) // 8 + 1
    return _exact_or_subclass(obj, int, b"i" + int.to_bytes(obj, size, "big", signed=True))


@id_for_memo.register(float)
def _float(obj: float, output_ref: bool = False) -> bytes:
    return _exact_or_subclass(obj, float, b"f" + _DOUBLE.pack(obj))


@id_for_memo.register(str)
def _str(obj: str, output_ref: bool = False) -> bytes:
    return _exact_or_subclass(obj, str, b"s" + str.encode(obj, "utf-8", "surrogatepass"))


@id_for_memo.register(bytes)
def _bytes(obj: bytes, output_ref: bool = False) -> bytes:
    return _exact_or_subclass(obj, bytes, b"b" + bytes(obj))


# Containers are encoded with an explicit stack, not by recursion: the engine passes arguments
# nested up to 1,000 containers deep, past what Python's recursion limit allows three frames a level.

_CONTAINER_TAGS: dict[type, bytes] = {list: b"L", tuple: b"U", set: b"S", frozenset: b"Z", dict: b"D"}


class _Open:
    """A container being encoded: its parts still to encode and the encodings done so far. A part
    is ``(value, output_ref, where)``; ``where`` is an index, ``(key,)`` for a dict value, or the
    text for a dict key or set member (made into a path segment only when an error needs one)."""

    __slots__ = ("tag", "parts", "done", "where")

    def __init__(self, obj: Any, output_ref: bool) -> None:
        self.tag = _CONTAINER_TAGS[type(obj)]
        self.done: list[bytes] = []
        self.where: Any = None
        if self.tag == b"D":
            self.parts = [part for key, value in obj.items()
                          for part in ((key, False, " (a dict key)"), (value, output_ref, (key,)))]
        elif self.tag in (b"S", b"Z"):
            self.parts = [(value, output_ref, " (a set member)") for value in obj]
        else:
            self.parts = [(value, output_ref, index) for index, value in enumerate(obj)]
        self.parts.reverse()  # (popped from the end)

    def close(self) -> bytes:
        if self.tag == b"D":  # sorted by the keys' encodings: insertion order is not part of it
            pairs = iter(self.done)
            return framed(b"D", sorted(framed(b"p", [key, value]) for key, value in zip(pairs, pairs)))
        if self.tag in (b"S", b"Z"):  # a set's iteration order follows hash(), which differs per process
            return framed(self.tag, sorted(self.done))
        return framed(self.tag, self.done)


def _segment(where: Any) -> str:
    if isinstance(where, int):
        return f"[{where}]"
    if isinstance(where, tuple):
        return f"[{where[0]!r}]"
    return where


def _leaf_or_open(obj: Any, output_ref: bool) -> bytes | _Open:
    """A value's encoding, or an :class:`_Open` for a built-in container to encode part by part."""
    rule = id_for_memo.dispatch(type(obj))
    if rule is not _container:
        return rule(obj, output_ref=output_ref)
    base = next(cls for cls in type(obj).__mro__ if cls in _CONTAINER_TAGS)
    if type(obj) is not base:
        raise UnmemoizableError(type(obj), f"a subclass of {base.__name__}: the {base.__name__} rule takes "
                                           f"exact {base.__name__}s only")
    return _Open(obj, output_ref)


@id_for_memo.register(list)
@id_for_memo.register(tuple)
@id_for_memo.register(set)
@id_for_memo.register(frozenset)
@id_for_memo.register(dict)
def _container(obj: Any, output_ref: bool = False) -> bytes:
    top = _leaf_or_open(obj, output_ref)
    if not isinstance(top, _Open):
        return top
    stack = [top]
    while True:
        current = stack[-1]
        if not current.parts:
            encoding = stack.pop().close()
            if not stack:
                return encoding
            stack[-1].done.append(encoding)
            continue
        value, value_ref, where = current.parts.pop()
        try:
            part = _leaf_or_open(value, value_ref)
        except UnmemoizableError as error:
            for segment in reversed([*(frame.where for frame in stack[1:]), where]):
                error.inside(_segment(segment))
            raise
        if isinstance(part, _Open):
            part.where = where
            stack.append(part)
        else:
            current.done.append(part)


@id_for_memo.register(File)
def _file(obj: File, output_ref: bool = False) -> bytes:
    return _exact_or_subclass(obj, File, framed(b"P", [obj.scheme.encode(), obj.netloc.encode(),
                                                       obj.path.encode("utf-8", "surrogatepass")]))


@id_for_memo.register(types.FunctionType)
def _function(obj: types.FunctionType, output_ref: bool = False) -> bytes:
    return framed(b"C", [str(obj.__module__ or "").encode(), obj.__qualname__.encode()])


# MARK: watching the rules of plain values

#: The types whose values the engine may key itself (``Sources/Sprig/Checkpoints/PlainCallKey.swift``),
#: byte for byte as these rules do, while the rules are these.
_PLAIN_TYPES = (type(None), bool, int, float, str, bytes, list, tuple, dict)
_BUILTIN_RULES = {cls: id_for_memo.dispatch(cls) for cls in _PLAIN_TYPES}
_plain_watchers: list[Callable[[bool], object]] = []
_register = id_for_memo.register


def plain_rules_intact() -> bool:
    """Whether the rules for ``None``, ``bool``, ``int``, ``float``, ``str``, ``bytes``, ``list``,
    ``tuple`` and ``dict`` are still the built-in ones (no script registered its own)."""
    return all(id_for_memo.dispatch(cls) is rule for cls, rule in _BUILTIN_RULES.items())


def watch_plain_rules(callback: Callable[[bool], object]) -> None:
    """Calls ``callback(plain_rules_intact())`` now and after every ``id_for_memo.register``."""
    _plain_watchers.append(callback)
    callback(plain_rules_intact())


def _register_watched(cls: Any, func: Any = None) -> Any:
    # (id_for_memo.register, telling the watchers; `@id_for_memo.register(T)` registers when it decorates)
    if func is None and isinstance(cls, (type, types.UnionType)):
        return lambda f: _register_watched(cls, f)
    try:
        return _register(cls, func)
    finally:
        if _plain_watchers:
            intact = plain_rules_intact()
            for callback in list(_plain_watchers):
                callback(intact)


id_for_memo.register = _register_watched  # type: ignore[attr-defined]


# MARK: keys of calls


def task_key(func_name: str, args: Sequence[Any], kwargs: Mapping[str, Any],
             ignore_for_cache: Iterable[str] = (), code: str | None = None, *,
             positional_names: Sequence[str] = ()) -> str:
    """The cache key of one call of an app: a 64-character hex string, the same for the same call
    in any process and run.

    Parameters:
        func_name: the app's name, as :func:`sprig.app_submission.app_name` gives it (module and
            qualified name), so two apps with one function name in two modules never share entries.
        args, kwargs: the call's arguments as the app will receive them, futures already replaced
            by their values; hashed as given (see the module docstring).
        ignore_for_cache: keyword names left out of the key (the app's ``ignore_for_cache``).
        code: the app's :func:`~sprig.code_fingerprint.code_fingerprint` for ``cache="code"``, or
            None for ``cache=True``.
        positional_names: the app's positional parameter names (:func:`positional_parameters`),
            so an argument named in ``ignore_for_cache`` is left out when passed by position too
            (Parsl fails such a call with ``KeyError``), and errors name it.

    Raises :class:`UnmemoizableError` naming the app, the argument and the type that has no rule.
    Any other exception from a registered rule propagates as it is, with a note naming the argument.
    Runs in the caller's thread with the GIL held; registered rules run there too.
    """
    import hashlib

    from sprig.app_submission import AUTO_LOGNAME

    ignored = set(ignore_for_cache)
    for stream in ("stdout", "stderr"):
        value = kwargs.get(stream)
        if type(value) is int and value == AUTO_LOGNAME:  # the engine picks the file: not part of the call
            ignored.add(stream)
    context = f"cannot cache a call of app {func_name!r}"
    positional = []
    for index, value in enumerate(args):
        name = positional_names[index] if index < len(positional_names) else None
        if name is not None and name in ignored:
            positional.append(_IGNORED)
            continue
        subject = f"argument {name!r} (positional {index})" if name else f"argument {index} (positional)"
        positional.append(encode_named(value, False, context, subject, name or f"args[{index}]"))
    keywords = []
    for name in sorted(kwargs):
        if name in ignored:
            continue
        value = encode_named(kwargs[name], name == "outputs", context, f"argument {name!r}", name)
        keywords.append(framed(b"k", [name.encode(), value]))
    material = framed(b"K", [KEY_FORMAT, func_name.encode(), b"N" if code is None else b"s" + code.encode(),
                             framed(b"A", positional), framed(b"W", keywords)])
    return hashlib.sha256(material).hexdigest()


def encode_named(value: Any, output_ref: bool, context: str, subject: str, root: str) -> bytes:
    """``id_for_memo(value)``, with an error naming where the value came from: ``context`` and
    ``subject`` as in :meth:`UnmemoizableError.name`; a registered rule's own exception gets a note."""
    try:
        return id_for_memo(value, output_ref=output_ref)
    except UnmemoizableError as error:
        raise error.name(context, subject, root) from None
    except Exception as error:
        error.add_note(f"(raised by id_for_memo while computing the cache key: {context}, {subject})")
        raise


def positional_parameters(func: Callable[..., Any]) -> tuple[str, ...]:
    """The names of the parameters ``func`` takes by position, in order (for ``positional_names``)."""
    import inspect

    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return ()
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return tuple(p.name for p in parameters if p.kind in kinds)


def signature_defaults(func: Callable[..., Any]) -> dict[str, Any]:
    """Every parameter default of ``func`` by name. Parsl hashes a bash app's call with these
    merged under the caller's keywords (``{**signature_defaults(f), **kwargs}``); a Python app's
    call it hashes as given."""
    import inspect

    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


__all__ = ["KEY_FORMAT", "UnmemoizableError", "encode_named", "framed", "id_for_memo", "plain_rules_intact", "positional_parameters",
           "signature_defaults", "task_key", "type_path", "watch_plain_rules"]
