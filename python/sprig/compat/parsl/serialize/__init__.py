"""Parsl's ``parsl.serialize``: turning objects into bytes and back, with Sprig's serializer.

:func:`serialize` pickles functions (and other callables) the way Sprig ships them to workers —
by value with cloudpickle when it is importable — and other values the way Sprig pickles results;
:func:`deserialize` reads either. :func:`pack_apply_message` packs a function and its arguments
into one buffer, and :func:`unpack_apply_message` gives back ``[function, args, kwargs]``.

The bytes are Sprig's (pickles, and Sprig's own framing for packed messages), not Parsl's wire
format: bytes made by Parsl cannot be read here, nor the reverse.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_MAGIC = b"SPRIGAPPLY1\n"
_LENGTH_BYTES = 8  # each packed part is preceded by its length, 8 bytes big-endian


def _sprig() -> Any:
    from sprig import serialize  # imports pickle: only when something is serialized, so `import parsl` stays cheap

    return serialize


def serialize(obj: Any, buffer_threshold: int = int(1e6)) -> bytes:
    """``obj`` as bytes; raises :class:`sprig.serialize.SerializationError` naming what failed.
    ``buffer_threshold`` is accepted for Parsl's signature; a result over it logs a warning."""
    data = _sprig().dumps_function(obj) if callable(obj) else _sprig().dumps_result(obj)
    if len(data) > buffer_threshold:
        import logging

        logging.getLogger(__name__).warning("serialized object is %d bytes, over the threshold of %d",
                                            len(data), buffer_threshold)
    return data


def deserialize(payload: bytes) -> Any:
    """The object :func:`serialize` turned into ``payload``."""
    return _sprig().loads(payload)


def pack_apply_message(func: Any, args: Any, kwargs: Any, buffer_threshold: int = int(128 * 1e6)) -> bytes:
    """One buffer holding ``func``, ``args`` and ``kwargs``, each serialized on its own."""
    parts = [serialize(func, buffer_threshold), serialize(args, buffer_threshold),
             serialize(kwargs, buffer_threshold)]
    return _MAGIC + b"".join(len(part).to_bytes(_LENGTH_BYTES, "big") + part for part in parts)


def unpack_apply_message(packed_buffer: bytes) -> list[Any]:
    """``[func, args, kwargs]`` from a :func:`pack_apply_message` buffer; a buffer of another shape
    raises :class:`ValueError`."""
    data = memoryview(packed_buffer)
    if bytes(data[:len(_MAGIC)]) != _MAGIC:
        raise ValueError("unpack_apply_message: not a buffer made by Sprig's pack_apply_message")
    offset = len(_MAGIC)
    parts = []
    while offset < len(data):
        if offset + _LENGTH_BYTES > len(data):
            raise ValueError("unpack_apply_message: the buffer is truncated")
        length = int.from_bytes(data[offset:offset + _LENGTH_BYTES], "big")
        offset += _LENGTH_BYTES
        if offset + length > len(data):
            raise ValueError("unpack_apply_message: the buffer is truncated")
        parts.append(deserialize(bytes(data[offset:offset + length])))
        offset += length
    if len(parts) != 3:
        raise ValueError(f"unpack_apply_message: expected 3 parts (function, args, kwargs), found {len(parts)}")
    return parts


__all__ = ["serialize", "deserialize", "pack_apply_message", "unpack_apply_message"]
