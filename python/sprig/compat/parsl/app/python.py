"""Parsl's ``parsl.app.python``: :class:`PythonApp`, the class ``@python_app`` makes (see
:mod:`sprig.api`), and :func:`timeout`."""

from __future__ import annotations

import functools
import threading

from sprig.api import PythonApp
from sprig.errors import AppTimeout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def timeout(f: Callable[..., Any], seconds: float) -> Callable[..., Any]:
    """``f`` wrapped so that a call running longer than ``seconds`` is interrupted by
    :class:`~sprig.errors.AppTimeout`, raised in the calling thread (Parsl's helper; Sprig's own
    ``walltime=`` is enforced by the engine instead).

    The exception is delivered between Python bytecodes, so code blocked inside one long C call
    sees it only when that call returns. A call that ends first, by returning or raising, cancels
    the timer: nothing is raised afterwards.
    """

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        alarm = _Alarm(threading.get_ident())
        timer = threading.Timer(seconds, alarm.fire)
        timer.daemon = True
        timer.start()
        try:
            return f(*args, **kwargs)
        except AppTimeout as exc:
            if alarm.fired and not exc.message:  # ours: say which call and how long
                exc.message = f"{getattr(f, '__qualname__', f)!s} ran past its {seconds} s timeout"
                exc.args = (exc.message,)
                exc.walltime = seconds
            raise
        finally:
            timer.cancel()
            alarm.disarm()

    return wrapper


class _Alarm:
    """Raises :class:`AppTimeout` in one thread, at most once and only until disarmed."""

    def __init__(self, thread_id: int) -> None:
        self.thread_id = thread_id
        self.fired = False
        self._armed = True
        self._lock = threading.Lock()

    def fire(self) -> None:
        with self._lock:
            if self._armed:
                self.fired = True
                _set_async_exception(self.thread_id, AppTimeout)

    def disarm(self) -> None:
        with self._lock:
            self._armed = False
            if self.fired:  # fired as the call ended: drop the exception if it is still pending
                _set_async_exception(self.thread_id, None)


def _set_async_exception(thread_id: int, exception: type[BaseException] | None) -> None:
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exception) if exception is not None else None)


__all__ = ["PythonApp", "timeout"]
