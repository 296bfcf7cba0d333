"""Parsl's ``set_stream_logger`` and ``set_file_logger``.

They add a handler to a standard :mod:`logging` logger (``parsl`` by default), as Parsl does,
for what Python code logs under that name; and, when Sprig's engine is there (``sprig run``), they
ask it to write its own lines (each task's life, blocks) at ``level`` and above to the same file
or stream. Each engine line is one ``write`` to a file opened for appending, so lines of both
never mix.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TextIO

_DEFAULT_FORMAT = "%(asctime)s %(name)s:%(lineno)d %(threadName)s %(levelname)s: %(message)s"
_DEBUG = 10  # logging.DEBUG, without importing logging until needed


def set_stream_logger(name: str = "parsl", level: int = _DEBUG, format_string: str | None = None,
                      stream: TextIO | None = None) -> Callable[[], None]:
    """Logs ``name`` (and below) at ``level`` to ``stream`` (default stderr); returns a function
    that removes the handler again."""
    import logging
    import sys

    handler = logging.StreamHandler(stream)
    remove = _attach(logging, name, level, format_string, handler)
    target = stream if stream is not None else sys.stderr
    try:
        descriptor = target.fileno()
    except (AttributeError, OSError, ValueError):
        return remove  # a stream without a descriptor (io.StringIO): Python's lines only
    return _engine_target(remove, "add_log_stream", descriptor, level, flush=target.flush)


def set_file_logger(filename: str, name: str = "parsl", level: int = _DEBUG,
                    format_string: str | None = None) -> Callable[[], None]:
    """Logs ``name`` (and below) at ``level`` to the file ``filename`` (appended to); returns a
    function that removes the handler again."""
    import logging

    handler = logging.FileHandler(filename)
    remove = _attach(logging, name, level, format_string, handler)
    return _engine_target(remove, "add_log_file", str(filename), level)


def _engine_target(remove: Callable[[], None], function: str, where: Any, level: int,
                   flush: Callable[[], None] | None = None) -> Callable[[], None]:
    """Asks the engine, when there is one, to log to ``where`` too; returns a remover of both."""
    import sys

    engine = sys.modules.get("_sprig_engine")
    adder = getattr(engine, function, None)
    if adder is None:
        return remove
    if flush is not None:
        flush()
    target = adder(where, int(level))

    def remove_both() -> None:
        remove()
        engine.remove_log_target(target)

    return remove_both


def _attach(logging: Any, name: str, level: int, format_string: str | None, handler: Any) -> Callable[[], None]:
    logger = logging.getLogger(name)
    logger.setLevel(level)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(format_string or _DEFAULT_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    logger.addHandler(handler)

    def remove() -> None:
        logger.removeHandler(handler)
        handler.close()

    return remove


def __getattr__(name: str) -> Any:
    if name == "DEFAULT_FORMAT":  # Parsl's text-log format, without importing logging at start-up
        from sprig.log_configs import DEFAULT_FORMAT

        return DEFAULT_FORMAT
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["set_stream_logger", "set_file_logger"]
