"""Parsl's ``set_stream_logger`` and ``set_file_logger``.

They add a handler to a standard :mod:`logging` logger (``parsl`` by default), as Parsl does.
Sprig's engine logs from Swift, not through Python's ``logging``, so these only show what Python
code logs under that name.
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

    handler = logging.StreamHandler(stream)
    return _attach(logging, name, level, format_string, handler)


def set_file_logger(filename: str, name: str = "parsl", level: int = _DEBUG,
                    format_string: str | None = None) -> Callable[[], None]:
    """Logs ``name`` (and below) at ``level`` to the file ``filename`` (appended to); returns a
    function that removes the handler again."""
    import logging

    handler = logging.FileHandler(filename)
    return _attach(logging, name, level, format_string, handler)


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


__all__ = ["set_stream_logger", "set_file_logger"]
