"""Serialization of functions, calls and results between the interchange and workers.

Functions (and call arguments) are pickled with cloudpickle when it is importable, so functions
from ``__main__``, lambdas and closures travel by value; otherwise with the standard ``pickle``.
Results are pickled with the standard ``pickle`` (highest protocol), falling back to cloudpickle
for values only it can pickle.

Calls and results are pickled with protocol 5, and their large buffers (``bytes``, ``bytearray``,
``memoryview`` and anything pickled as a ``PickleBuffer``, such as NumPy arrays, of at least
:data:`OUT_OF_BAND_MIN` bytes) travel out of band, in an *envelope* (PROTOCOL.md, "Payloads"):
to workers of a local block through shared-memory segments (:mod:`sprig.segments`), otherwise
inline beside the pickle. A payload without such buffers is a plain pickle. :func:`loads` reads
both.

cloudpickle is imported only when first needed: checking for it does not import it.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
import threading
from collections.abc import Callable

from sprig import segments

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
        if getattr(_pickling, "inline_segments", False):
            # Going where the segments cannot be read (a remote block): the buffers travel inline.
            return (Pickled, (inline(self.data),))
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


def dumps_call(args: tuple, kwargs: dict, shared_memory: str | None = None) -> bytes:
    """Pickles ``(args, kwargs)``; on failure the error names the argument that cannot be pickled.

    Positional arguments are numbered from 1 ("argument 1: ..."); keywords by name
    ("keyword argument 'x': ..."). Large buffers travel out of band (see :func:`dumps_payload`):
    in segments of the run prefix ``shared_memory`` when given (a local block), else inline; with
    no ``shared_memory``, :class:`Pickled` values holding segments are inlined too.
    """
    dumps = _pickler()
    call = (tuple(args), dict(kwargs))
    _pickling.inline_segments = shared_memory is None
    try:
        return dumps_payload(call, shared_memory, cloud=dumps is not pickle.dumps,
                             large=_holds_large(call[0]) or _holds_large(tuple(call[1].values())))
    except Exception as exc:
        culprit = _find_culprit(dumps, call[0], call[1])
        if culprit is None:
            raise SerializationError(f"arguments: {_why(exc)}") from exc
        label, error = culprit
        raise SerializationError(f"{label}: {_why(error)}") from exc
    finally:
        _pickling.inline_segments = False


def _find_culprit(dumps: Callable[..., bytes], args: tuple, kwargs: dict) -> tuple[str, BaseException] | None:
    for index, value in enumerate(args, start=1):
        try:
            dumps_payload(value, None, cloud=dumps is not pickle.dumps, large=True)
        except Exception as exc:
            return f"argument {index}", exc
    for name, value in kwargs.items():
        try:
            dumps_payload(value, None, cloud=dumps is not pickle.dumps, large=True)
        except Exception as exc:
            return f"keyword argument {name!r}", exc
    return None


def dumps_result(value: Any, shared_memory: str | None = None) -> bytes:
    """Pickles a result with the standard pickle (protocol 5), or cloudpickle if needed; large
    buffers out of band (in segments of ``shared_memory`` when given, else inline)."""
    large = _holds_large((value,))
    try:
        return dumps_payload(value, shared_memory, cloud=False, large=large)
    except Exception as first:
        if cloudpickle_module() is not None:
            try:
                return dumps_payload(value, shared_memory, cloud=True, large=large)
            except Exception:
                pass
        raise SerializationError(f"a result of type {_type_name(value)} cannot be pickled: {_why(first)}") from first


def loads(data: Any, consume: bool = False) -> Any:
    """Unpickles bytes made by any function of this module (or by pickle/cloudpickle): a plain
    pickle or an envelope. With ``consume`` the envelope's segments are unlinked once open (a
    task's arguments); without, they are left to their owner (results, forwarded values)."""
    if not _is_envelope(data):
        return pickle.loads(data)
    buffers, persistent, stream = _open_envelope(data, consume)
    import io

    unpickler = _Unpickler(io.BytesIO(stream), buffers=buffers)
    unpickler.shared = persistent
    return unpickler.load()


# Payloads: pickle protocol 5 with out-of-band buffers (PROTOCOL.md, "Payloads")

#: Buffers of at least this many bytes travel out of band.
OUT_OF_BAND_MIN = 64 * 1024
#: The first bytes of an envelope (a pickle of protocol 2 or later starts with 0x80, never these).
ENVELOPE_MAGIC = b"SPRO"
PLACE_INLINE = 0
PLACE_SEGMENT = 1
FLAG_WRITABLE = 1  # the reader gets a bytearray, not bytes
FLAG_PERSISTENT = 2  # referenced by a persistent id (bytes, bytearray, memoryview), not by NEXT_BUFFER
_ENVELOPE_HEAD = struct.Struct("<4sI")
_BUFFER_HEAD = struct.Struct("<BBQ")
_PERSISTENT_TAG = "sprig.buffer"

_pickling = threading.local()  # inline_segments: Pickled.__reduce__ inlines (going to a remote block)


def _holds_large(items: tuple) -> bool:
    """Whether any of ``items``, or an item of a list, tuple or dict among them, is a large buffer
    (cheap: the usual payloads are arguments themselves)."""
    for item in items:
        kind = type(item)
        if kind is bytes or kind is bytearray:
            if len(item) >= OUT_OF_BAND_MIN:
                return True
        elif kind is memoryview or kind is Pickled:
            return True
        elif kind is list or kind is tuple:
            if any(type(x) in (bytes, bytearray, memoryview, Pickled) for x in item[:64]):
                return True
        elif kind is dict:
            if any(type(x) in (bytes, bytearray, memoryview, Pickled) for x in list(item.values())[:64]):
                return True
    return False


def dumps_payload(value: Any, shared_memory: str | None, cloud: bool = False, large: bool = True) -> bytes:
    """Pickles ``value`` (protocol 5) with its large buffers out of band: a plain pickle when it has
    none, else an envelope whose buffers are in segments of ``shared_memory`` (inline when None,
    or when a segment cannot be written). ``large``: whether ``value`` may hold large ``bytes``,
    ``bytearray`` or ``memoryview`` (which the pickler then looks for: this costs a call per object
    pickled); without, a plain pickle of at least :data:`OUT_OF_BAND_MIN` bytes is pickled again
    looking for them."""
    buffers: list[tuple[int, memoryview]] = []

    def take(buffer: pickle.PickleBuffer) -> bool:
        view = buffer.raw()
        if view.nbytes < OUT_OF_BAND_MIN:
            return True  # in band
        buffers.append((0 if view.readonly else FLAG_WRITABLE, view))
        return False

    module = cloudpickle_module() if cloud else None
    if not large:
        if module is not None:
            data = module.dumps(value, protocol=5, buffer_callback=take)
        else:
            data = pickle.dumps(value, protocol=5, buffer_callback=take)
        if not buffers and len(data) < OUT_OF_BAND_MIN:
            return data
        buffers.clear()
    import io

    out = io.BytesIO()
    base = module.Pickler if module is not None else pickle.Pickler
    pickler = _pickler_class(base)(out, protocol=5, buffer_callback=take)
    pickler.shared = buffers
    pickler.seen = {}
    pickler.dump(value)
    if not buffers:
        return out.getvalue()
    return _envelope(buffers, out.getbuffer(), shared_memory)


_PICKLER_CLASSES: dict[type, type] = {}


def _pickler_class(base: type) -> type:
    """``base`` (pickle's or cloudpickle's Pickler) that sends large bytes, bytearrays and
    memoryviews out of band, as persistent ids (pickle's C Pickler never offers them to
    ``reducer_override``)."""
    found = _PICKLER_CLASSES.get(base)
    if found is not None:
        return found

    class OutOfBandPickler(base):  # type: ignore[misc, valid-type]
        shared: list[tuple[int, memoryview]]
        seen: dict[int, tuple]

        def persistent_id(self, obj: Any) -> Any:
            kind = type(obj)
            if kind is bytes or kind is bytearray:
                if len(obj) < OUT_OF_BAND_MIN:
                    return None
            elif kind is not memoryview or obj.nbytes < OUT_OF_BAND_MIN:
                return None
            known = self.seen.get(id(obj))
            if known is not None:
                return known[0]
            if kind is memoryview:
                view = obj if obj.c_contiguous else memoryview(obj.tobytes(order="C"))
                flat = view.cast("B") if view.format != "B" or view.ndim != 1 else view
                pid = (_PERSISTENT_TAG, len(self.shared), "memoryview", obj.format, tuple(obj.shape), obj.readonly)
                flags = FLAG_PERSISTENT | (0 if obj.readonly else FLAG_WRITABLE)
            else:
                flat = memoryview(obj)
                pid = (_PERSISTENT_TAG, len(self.shared), kind.__name__)
                flags = FLAG_PERSISTENT | (FLAG_WRITABLE if kind is bytearray else 0)
            self.shared.append((flags, flat))
            self.seen[id(obj)] = (pid, obj)  # (keeps obj alive, so its id stays its own)
            return pid

    _PICKLER_CLASSES[base] = OutOfBandPickler
    return OutOfBandPickler


class _Unpickler(pickle.Unpickler):
    shared: list[Any]

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == _PERSISTENT_TAG):
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        index, kind = pid[1], pid[2]
        if not (isinstance(index, int) and 0 <= index < len(self.shared)):
            raise pickle.UnpicklingError(f"payload refers to buffer {index!r}, but it has {len(self.shared)}")
        buffer = self.shared[index]
        if kind == "bytes":
            return buffer if type(buffer) is bytes else bytes(buffer)
        if kind == "bytearray":
            return buffer if type(buffer) is bytearray else bytearray(buffer)
        if kind == "memoryview":
            _, _, _, fmt, shape, readonly = pid
            view = memoryview(buffer)
            if fmt != "B" or len(shape) != 1:
                view = view.cast(fmt, shape)
            return view.toreadonly() if readonly else view
        raise pickle.UnpicklingError(f"unknown out-of-band buffer kind {kind!r}")


def _envelope(buffers: list[tuple[int, memoryview]], stream: memoryview, shared_memory: str | None) -> bytes:
    parts: list[Any] = [_ENVELOPE_HEAD.pack(ENVELOPE_MAGIC, len(buffers))]
    for flags, view in buffers:
        name = None
        if shared_memory is not None:
            try:
                name = segments.write(shared_memory, view)
            except OSError as exc:
                _note_inline(exc)
        if name is None:
            parts.append(_BUFFER_HEAD.pack(PLACE_INLINE, flags, view.nbytes))
            parts.append(view)
        else:
            encoded = name.encode("ascii")
            parts.append(_BUFFER_HEAD.pack(PLACE_SEGMENT, flags, view.nbytes) + bytes([len(encoded)]) + encoded)
    parts.append(stream)
    return b"".join(parts)


_inline_noted = False


def _note_inline(exc: OSError) -> None:
    global _inline_noted
    if not _inline_noted:
        _inline_noted = True
        import logging

        logging.getLogger("sprig.serialize").warning(
            "cannot write a shared-memory segment (%s): large buffers travel inline", exc.strerror or exc)


def _is_envelope(data: Any) -> bool:
    return len(data) >= 8 and data[:4] == ENVELOPE_MAGIC


class _Buffer:
    __slots__ = ("place", "flags", "length", "at", "name")

    def __init__(self, place: int, flags: int, length: int, at: int, name: str | None) -> None:
        self.place, self.flags, self.length, self.at, self.name = place, flags, length, at, name


def _parse_envelope(data: Any) -> tuple[list[_Buffer], int]:
    """The buffers of an envelope and where its pickle starts."""
    view = memoryview(data).cast("B") if not isinstance(data, (bytes, bytearray)) else data
    size = len(view)
    magic, count = _ENVELOPE_HEAD.unpack_from(view, 0)
    offset = _ENVELOPE_HEAD.size
    found: list[_Buffer] = []
    for index in range(count):
        if offset + _BUFFER_HEAD.size > size:
            raise SerializationError(f"payload envelope truncated in buffer {index} of {count}")
        place, flags, length = _BUFFER_HEAD.unpack_from(view, offset)
        offset += _BUFFER_HEAD.size
        if place == PLACE_INLINE:
            if offset + length > size:
                raise SerializationError(f"payload envelope truncated inside buffer {index} ({length} bytes)")
            found.append(_Buffer(place, flags, length, offset, None))
            offset += length
        elif place == PLACE_SEGMENT:
            if offset + 1 > size or offset + 1 + view[offset] > size:
                raise SerializationError(f"payload envelope truncated in the name of buffer {index}")
            end = offset + 1 + view[offset]
            name = bytes(view[offset + 1 : end]).decode("ascii", "replace")
            found.append(_Buffer(place, flags, length, offset, name))
            offset = end
        else:
            raise SerializationError(f"payload envelope: buffer {index} has unknown place {place}")
    return found, offset


def _open_envelope(data: Any, consume: bool) -> tuple[list[Any], list[Any], memoryview]:
    """(NEXT_BUFFER buffers, persistent buffers, the pickle) of an envelope; its segments read."""
    view = memoryview(data).cast("B")
    found, start = _parse_envelope(view)
    ordered: list[Any] = []
    persistent: list[Any] = []
    try:
        for buffer in found:
            writable = bool(buffer.flags & FLAG_WRITABLE)
            if buffer.place == PLACE_SEGMENT:
                try:
                    content: Any = segments.read(buffer.name or "", buffer.length, writable, consume)
                except segments.SegmentError as exc:
                    raise SerializationError(str(exc)) from None
            else:
                piece = view[buffer.at : buffer.at + buffer.length]
                content = bytearray(piece) if writable else bytes(piece)
            (persistent if buffer.flags & FLAG_PERSISTENT else ordered).append(content)
    finally:
        if consume:  # a buffer that failed must not leave the others behind
            for buffer in found:
                if buffer.place == PLACE_SEGMENT and buffer.name:
                    segments.unlink(buffer.name)
    return ordered, persistent, view[start:]


def segment_names(data: Any) -> list[str]:
    """The names of the segments an envelope refers to (none for a plain pickle)."""
    if not _is_envelope(data):
        return []
    return [buffer.name for buffer in _parse_envelope(data)[0] if buffer.name is not None]


def inline(data: Any) -> bytes:
    """The same payload with its segments' bytes inline (readable without them); a plain pickle or
    an envelope without segments is returned as it is."""
    if not _is_envelope(data):
        return data if isinstance(data, bytes) else bytes(data)
    view = memoryview(data).cast("B")
    found, start = _parse_envelope(view)
    if all(buffer.place == PLACE_INLINE for buffer in found):
        return data if isinstance(data, bytes) else bytes(data)
    parts: list[Any] = [_ENVELOPE_HEAD.pack(ENVELOPE_MAGIC, len(found))]
    for buffer in found:
        parts.append(_BUFFER_HEAD.pack(PLACE_INLINE, buffer.flags, buffer.length))
        if buffer.place == PLACE_SEGMENT:
            try:
                parts.append(segments.read(buffer.name or "", buffer.length, False, False))
            except segments.SegmentError as exc:
                raise SerializationError(str(exc)) from None
        else:
            parts.append(view[buffer.at : buffer.at + buffer.length])
    parts.append(view[start:])
    return b"".join(parts)


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
        return loads(value.data)
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
