"""Log configs (Parsl's ``parsl.logconfigs``): what ``Config(initialize_logging=...)`` may be
besides True and False.

A :class:`LogConfig` sets up Python's :mod:`logging` for a run and returns how to undo it. Given one,
the engine writes no ``parsl.log`` of its own: its lines (each task's life, blocks) go to Python's
logger ``parsl.sprig`` instead, so the log config's handlers receive them with Python's records
(``parsl.dataflow.dflow`` and the script's own). That costs a call into Python per engine line
(several per task), which the default (``initialize_logging=True``: the engine writes
``parsl.log`` itself) does not. ``NoopLogging`` writes nothing at all, as ``False`` does.

Ready-made: :class:`FileLogging` (``<run>/parsl.log``, your format), :class:`JSONLogging`
(``<run>/parsl.jsonlog``, one JSON object per record), :class:`NoopLogging`. A config set up more
than once in a process (nested runs, a config unpickled twice: same ``uuid``) is set up once and
undone with its last user (:func:`oneshot_initialize_logging`).
"""

from __future__ import annotations

import abc
import json
import logging
import threading
import uuid

TYPE_CHECKING = False
if TYPE_CHECKING:
    import pathlib
    from collections.abc import Callable
    from typing import Any, TextIO

#: Parsl's format for text logs.
DEFAULT_FORMAT = "%(created)f %(asctime)s %(processName)s-%(process)d %(threadName)s-%(thread)d %(name)s:%(lineno)d %(funcName)s %(levelname)s: %(message)s"


class LogConfig(abc.ABC):
    """A way to set up logging; subclasses implement :meth:`initialize_logging`. Each instance has
    a ``uuid`` that survives pickling: copies of one config are the same config."""

    def __init__(self) -> None:
        self.uuid = uuid.uuid4()

    @abc.abstractmethod
    def initialize_logging(self, *, log_dir: pathlib.Path, log_name: str) -> Callable[[], None]:
        """Sets up logging in this process, for logs named ``log_name`` under ``log_dir``; returns
        a function that undoes it."""


class _Users:
    """A set-up config: how to undo it, and how many set it up."""

    def __init__(self, undo: Callable[[], None]) -> None:
        self.uninit_callback = undo
        self.count = 1


#: The configs set up in this interpreter, by uuid (Python's logging is per interpreter too).
_initialized_log_contexts: dict[uuid.UUID, _Users] = {}
_initialized_log_context_lock = threading.Lock()


def oneshot_initialize_logging(*, log_config: LogConfig, log_dir: pathlib.Path, log_name: str) -> None:
    """Sets ``log_config`` up unless it is set up already (then counts one more user: the first
    set-up's ``log_dir`` and ``log_name`` stay)."""
    with _initialized_log_context_lock:
        users = _initialized_log_contexts.get(log_config.uuid)
        if users is not None:
            users.count += 1
            return
        undo = log_config.initialize_logging(log_dir=log_dir, log_name=log_name)
        if not callable(undo):
            raise TypeError(f"log config {log_config!r}: initialize_logging returned {undo!r}, not a function that undoes it")
        _initialized_log_contexts[log_config.uuid] = _Users(undo)


def oneshot_uninitialize_logging(*, log_config: LogConfig) -> None:
    """One user of ``log_config`` is done; the last one undoes its set-up."""
    with _initialized_log_context_lock:
        users = _initialized_log_contexts.get(log_config.uuid)
        if users is None:
            raise RuntimeError(f"log config {log_config!r} is not set up (undone more often than set up?)")
        users.count -= 1
        if users.count == 0:
            del _initialized_log_contexts[log_config.uuid]
            users.uninit_callback()


def _lower_level(logger: logging.Logger, level: int) -> None:
    """Lets ``logger`` pass records at ``level`` and above (keeping a lower level it has)."""
    logger.setLevel(level if logger.level == logging.NOTSET else min(logger.level, level))


class FileLogging(LogConfig):
    """Text lines in ``<log_dir>/<log_name>.log`` (``<run>/parsl.log``) for the ``parsl`` loggers and
    ``concurrent.futures`` (where exceptions raised in done callbacks are reported), each formatted
    with ``format_string``, at ``level`` and above."""

    def __init__(self, *, format_string: str = DEFAULT_FORMAT, level: int = logging.DEBUG) -> None:
        super().__init__()
        self.format_string = format_string
        self.level = level

    def initialize_logging(self, *, log_dir: pathlib.Path, log_name: str) -> Callable[[], None]:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_dir / f"{log_name}.log")
        handler.setLevel(self.level)
        handler.setFormatter(logging.Formatter(self.format_string, datefmt="%Y-%m-%d %H:%M:%S"))
        loggers = [logging.getLogger("parsl"), logging.getLogger("concurrent.futures")]
        for logger in loggers:
            _lower_level(logger, self.level)
            logger.addHandler(handler)

        def undo() -> None:
            for logger in loggers:
                logger.removeHandler(handler)
            handler.close()

        return undo


class JSONLogging(LogConfig):
    """One JSON object per record in ``<log_dir>/<log_name>.jsonlog``, for every logger (the root
    logger's handler), at ``level`` and above: the record's time, process, thread, logger name,
    line, function, level, ``msg`` (the unformatted message), ``formatted``, and each ``parsl.*``
    attribute given with ``extra=`` (as text)."""

    def __init__(self, *, level: int = logging.DEBUG) -> None:
        super().__init__()
        self.level = level

    def initialize_logging(self, *, log_dir: pathlib.Path, log_name: str) -> Callable[[], None]:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = JSONHandler(log_dir / f"{log_name}.jsonlog")
        handler.setLevel(self.level)
        handler.setFormatter(logging.Formatter("%(message)s", datefmt="%Y-%m-%d %H:%M:%S"))
        root = logging.getLogger("")
        _lower_level(root, self.level)
        root.addHandler(handler)

        def undo() -> None:
            root.removeHandler(handler)
            handler.close()

        return undo


class JSONHandler(logging.Handler):
    """Writes each record as one line of JSON to ``filename`` (flushed per record)."""

    def __init__(self, filename: pathlib.Path | str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.f: TextIO = open(filename, "w", encoding="utf-8")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line: dict[str, Any] = {
                "created": record.created, "process": record.process, "processName": record.processName,
                "threadName": record.threadName, "thread": record.thread, "name": record.name,
                "lineno": record.lineno, "funcname": record.funcName, "levelname": record.levelname,
                "msg": str(record.msg), "formatted": self.format(record),
            }
            for key, value in record.__dict__.items():
                if key.startswith("parsl."):
                    try:
                        line[key] = str(value)
                    except Exception as error:  # noqa: BLE001  (a value that cannot be shown says why)
                        line[key] = f"UNREPRESENTABLE: {error!r}"
            self.f.write(json.dumps(line) + "\n")
            self.f.flush()
        except Exception:  # noqa: BLE001  (logging's own convention: report, never raise)
            self.handleError(record)

    def close(self) -> None:
        try:
            self.f.close()
        finally:
            super().close()


class NoopLogging(LogConfig):
    """Sets nothing up: no ``parsl.log`` and no handler (what ``initialize_logging=False`` does)."""

    def initialize_logging(self, *, log_dir: pathlib.Path, log_name: str) -> Callable[[], None]:
        return lambda: None


#: Where the engine's lines go under a log config.
engine_logger = logging.getLogger("parsl.sprig")


def emit_engine_line(levelno: int, message: str, created: float) -> None:
    """The engine's target for one of its lines under a log config (never raises)."""
    try:
        if not engine_logger.isEnabledFor(levelno):
            return
        record = engine_logger.makeRecord(engine_logger.name, levelno, "(engine)", 0, message, None, None, "engine")
        record.created = created
        record.msecs = (created - int(created)) * 1000
        engine_logger.handle(record)
    except Exception:  # noqa: BLE001  (a broken handler must not reach the engine's thread)
        pass


__all__ = ["LogConfig", "FileLogging", "JSONLogging", "JSONHandler", "NoopLogging", "DEFAULT_FORMAT",
           "oneshot_initialize_logging", "oneshot_uninitialize_logging"]
