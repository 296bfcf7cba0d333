"""Parsl's ``parsl.serialize.errors``: the serialization failures Sprig's futures fail with."""

from sprig.errors import SerializationError


class DeserializationError(SerializationError):
    """A value could not be unpickled (Sprig reports both directions as :class:`SerializationError`)."""


__all__ = ["SerializationError", "DeserializationError"]
