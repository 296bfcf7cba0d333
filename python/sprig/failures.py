"""Task failures as the protocol reports them: the failure JSON of RESULTS status 1 (FAILED).

Every failure has ``kind``, ``type``, ``message`` and ``traceback`` (PROTOCOL.md lists the kinds
and their extra fields); :class:`TaskFailure` carries one through a worker's call stack.
"""

from __future__ import annotations

import json

from sprig import serialize

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from typing import Any


class TaskFailure(Exception):
    """A task failed in a way the protocol names (``kind``); ``info`` is the failure JSON."""

    def __init__(self, info: dict[str, Any]) -> None:
        super().__init__(info.get("message", ""))
        self.info = info


def qualified_name(kind: type) -> str:
    """``ZeroDivisionError`` for builtins, ``module.Qualname`` otherwise."""
    module = getattr(kind, "__module__", None)
    name = getattr(kind, "__qualname__", kind.__name__)
    return name if module in (None, "builtins") else f"{module}.{name}"


def _safe_str(exc: BaseException) -> str:
    """``str(exc)``, or a stand-in when the exception's own ``__str__`` raises: the failure is
    still reported as this exception, not as whatever its ``__str__`` raised."""
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {type(exc).__name__} object>"


def exception_info(kind: str, exc: BaseException, skip_frames: int = 0) -> dict[str, Any]:
    """The failure JSON of an exception: its type, message and traceback (minus our own frames)."""
    import traceback

    tb = exc.__traceback__
    for _ in range(skip_frames):
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    info = {
        "kind": kind,
        "type": qualified_name(type(exc)),
        "message": _safe_str(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, tb)),
    }
    if kind == "python":
        # The exception itself, so that a script can catch its original type (best effort).
        try:
            import base64
            import pickle

            try:
                data = pickle.dumps(exc)
            except Exception:
                # A class defined in the script (__main__) travels by value, as the function did:
                # cloudpickle gives the engine back its own class, so `except Boom` still matches.
                cloudpickle = serialize.cloudpickle_module()
                if cloudpickle is None:
                    raise
                data = cloudpickle.dumps(exc)
            info["pickled_exception"] = base64.b64encode(data).decode("ascii")
        except Exception:
            pass
    return info


def failure(kind: str, type_name: str, message: str, **extra: Any) -> TaskFailure:
    """A non-exception failure (bash exit, missing outputs, ...)."""
    info: dict[str, Any] = {"kind": kind, "type": type_name, "message": message, "traceback": ""}
    info.update(extra)
    return TaskFailure(info)


def to_json(info: dict[str, Any]) -> bytes:
    return json.dumps(info).encode("utf-8")
