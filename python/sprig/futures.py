"""Futures returned by app calls: :class:`AppFuture` for the app's value and :class:`DataFuture`
for each of its output files (Parsl's classes of the same names).

Both are :class:`concurrent.futures.Future` objects: ``result(timeout=None)``, ``exception()``,
``done()``, ``add_done_callback()`` and ``concurrent.futures.wait``/``as_completed`` work as
usual, and waiting releases the GIL. The engine completes an :class:`AppFuture` (holding the
GIL, in the order tasks end) by calling exactly one of ``_sprig_set_result(value)`` or
``_sprig_set_failure(info)``; the future's :class:`DataFuture` objects follow it. ``result()``
and ``exception()`` of a pending future wait in the engine (``_sprig_engine.wait``), which
completes the future on the waiting thread when its task ends; otherwise the engine's callback
thread completes it.

``cancel()`` cancels a task that has not started (it waits for its dependencies, or for a free
thread or worker): the future is then cancelled and its dependents fail with ``DependencyError``.
It returns False for a task that runs or has ended.

``future[key]`` and ``future.attribute`` are new futures of the value's item and attribute
(Parsl's lifted futures): they wait for this one, and fail with ``DependencyError`` when it fails.
"""

from __future__ import annotations

import threading
from concurrent.futures._base import (
    CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED, PENDING, CancelledError, Future, InvalidStateError, TimeoutError,
)

from sprig import errors, task_log
from sprig.files import File

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from typing import Any

_ENDED = (CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED)

#: Guards making a future's condition, and completing a future that has none (``_LazyFuture``).
_CONDITIONS = threading.Lock()


class _LazyFuture(Future):
    """A :class:`concurrent.futures.Future` that makes its ``threading.Condition`` (about 1 KB
    with its lock, deque and bound methods) only when something needs it: a ``result()`` or
    ``exception()`` that has to wait, ``add_done_callback``, ``wait``/``as_completed``, ``cancel``.

    A future completed before any of those is finished under a module lock instead, the same lock
    that makes conditions: whoever comes second sees what the first did (a waiter that made the
    condition first is woken through it; one that comes after the completion finds the state
    finished). Reading a finished future's value needs no lock. Everything else is Future's own.
    """

    def __init__(self) -> None:
        # Future.__init__, less the condition.
        self._state = PENDING
        self._result = None
        self._exception = None
        self._waiters = []
        self._done_callbacks = []

    @property
    def _condition(self) -> threading.Condition:  # type: ignore[override]
        condition = self.__dict__.get("_sprig_condition")
        if condition is None:
            with _CONDITIONS:
                condition = self.__dict__.get("_sprig_condition")
                if condition is None:
                    condition = self.__dict__["_sprig_condition"] = threading.Condition()
        return condition

    def done(self) -> bool:
        return self._state in _ENDED

    def cancelled(self) -> bool:
        return self._state in (CANCELLED, CANCELLED_AND_NOTIFIED)

    def result(self, timeout: float | None = None) -> Any:
        if self._state == PENDING and (timeout is None or timeout > 0) and self._sprig_wait(timeout) is False:
            raise TimeoutError()
        if self._state == FINISHED:
            if self._exception is None:
                return self._result
            try:
                raise self._exception
            finally:
                self = None  # (as Future does: no cycle through the traceback's frame)
        return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        if self._state == PENDING and (timeout is None or timeout > 0) and self._sprig_wait(timeout) is False:
            raise TimeoutError()
        if self._state == FINISHED:
            return self._exception
        return super().exception(timeout)

    def _sprig_wait(self, timeout: float | None) -> bool | None:
        """Waits in the engine for the task that completes this future (see :meth:`AppFuture._sprig_wait`);
        None: the engine does not, wait as any Future does."""
        return None

    def set_result(self, result: Any) -> None:
        if not self._finish_unwatched(result, None):
            super().set_result(result)

    def set_exception(self, exception: BaseException | None) -> None:
        if not self._finish_unwatched(None, exception):
            super().set_exception(exception)

    def _finish_unwatched(self, result: Any, exception: BaseException | None) -> bool:
        """Finishes the future if it has no condition yet (then nothing waits on it); returns
        whether it did."""
        with _CONDITIONS:
            if "_sprig_condition" in self.__dict__:
                return False
            ended = self._state in _ENDED
            if not ended:
                self._result, self._exception, self._state = result, exception, FINISHED
        if ended:
            raise InvalidStateError(f"{self._state}: {self!r}")
        self._invoke_callbacks()
        return True


class AppFuture(_LazyFuture):
    """The future value of one app call.

    ``tid`` (also ``task_id``) is the task id the engine gave the call, ``app_name`` the app's
    name, ``outputs`` one :class:`DataFuture` per file in the call's ``outputs=[...]``, and
    ``stdout``/``stderr`` the targets given in the call (or None).

    The value is the app's return value (0 for a bash app that succeeded; for a join app the value
    of the future it returned, or the list of values of the list of futures it returned). A failed
    task's future raises, from ``result()``, the app's own exception (a Python app that raised) or
    one of :mod:`sprig.errors` (see :func:`sprig.errors.exception_from_failure`).
    """

    def __init__(self, app_name: str = "", stdout: Any = None, stderr: Any = None, label: Any = None) -> None:
        super().__init__()
        self._label = label if isinstance(label, str) else None
        #: The task id, read by the engine to find dependencies; None until the call is submitted.
        self._sprig_tid: int | None = None
        self.app_name = app_name
        self._outputs: list[DataFuture] = []
        self._stdout = stdout
        self._stderr = stderr
        #: The futures the call was given (anywhere in its arguments): a dependency failure names them.
        #: Held strongly only until this future is done; then by weak references (see :meth:`_release`),
        #: so that a finished chain of futures does not keep every earlier link alive.
        self._sprig_dependencies: list[Future] = []

    @property
    def tid(self) -> int | None:
        """The task id (Parsl's ``tid``)."""
        return self._sprig_tid

    @property
    def task_id(self) -> int | None:
        """The task id (same as :attr:`tid`)."""
        return self._sprig_tid

    @property
    def outputs(self) -> list[DataFuture]:
        """One :class:`DataFuture` per file given in the call's ``outputs``, in order."""
        return self._outputs

    @property
    def stdout(self) -> Any:
        """The ``stdout`` target given in the call (for ``AUTO_LOGNAME``, the file chosen), or None."""
        return self._std_target(self._stdout, "stdout")

    @property
    def stderr(self) -> Any:
        """The ``stderr`` target given in the call (for ``AUTO_LOGNAME``, the file chosen), or None."""
        return self._std_target(self._stderr, "stderr")

    def _std_target(self, target: Any, stream: str) -> Any:
        if type(target) is int and target == -1 and self._sprig_tid is not None:  # AUTO_LOGNAME
            from sprig import api

            target = api._autopath(self._sprig_tid, self.app_name, stream, self._label, self)
        if isinstance(target, File):
            # A File target is a DataFuture of that file, done when the app is (as in Parsl).
            futures = self.__dict__.setdefault("_sprig_std_futures", {})
            if stream not in futures:
                futures[stream] = DataFuture(self, target)
                if self.done():
                    futures[stream]._parent_done(self._exception)  # type: ignore[attr-defined]
            return futures[stream]
        return target

    def cancel(self) -> bool:
        """Cancels the task if it has not started; returns whether it did (False once it runs or
        has ended). A cancelled task's dependents fail with ``DependencyError``."""
        if self.done() or self._sprig_tid is None:
            return False
        import sys

        engine = sys.modules.get("_sprig_engine")
        if engine is None or not engine.cancel(self._sprig_tid):
            return False
        if not self.done():  # (another thread may be completing ended tasks' futures: this one is among them)
            try:
                self.exception()
            except CancelledError:
                pass
        return self.cancelled()

    def __getitem__(self, key: Any) -> AppFuture:
        """A future of ``self.result()[key]``."""
        from sprig.api import _lifted

        return _lifted("getitem", self, key)

    def __getattr__(self, name: str) -> AppFuture:
        """A future of ``getattr(self.result(), name)``, for names the future itself does not have.
        Names starting with ``_`` are never lifted."""
        if name.startswith("_"):
            raise AttributeError(name)
        from sprig.api import _lifted

        return _lifted("getattr", self, name)

    @property
    def task_record(self) -> dict[str, Any]:
        """Parsl's task record for this call: ``id``, ``func_name``, ``status`` (a
        :class:`~sprig.states.States`), ``app_fu``, ``depends``, ``fail_count`` and the rest the
        engine knows; for caching, ``memoize`` (the app is cached), ``hashsum`` (the call's cache
        key, once the task has ended; None when none was computed) and ``from_memo`` (whether the
        cache answered; None until the task ends)."""
        from sprig.states import States

        record = self.__dict__.get("_sprig_record")
        if record is None:
            func = self.__dict__.get("_sprig_func")
            record = _TaskRecord({"id": self._sprig_tid, "func": func, "app_name": self.app_name,
                                  "func_name": getattr(func, "__name__", self.app_name), "app_fu": self,
                                  "executor": None})
            self._sprig_record = record
        if not self.__dict__.get("_sprig_released"):
            record["depends"] = self._dependencies()
        record["status"] = States[self.task_status()]
        memo = self.__dict__.get("_sprig_memo")
        record["memoize"] = bool(self.__dict__.get("_sprig_cached"))
        record["hashsum"] = memo[0] if memo else None
        record["from_memo"] = memo[1] if memo else (False if self.done() else None)
        return record

    def _dependencies(self) -> list[Future]:
        """The futures the call was given that are still alive (all of them until this one is done)."""
        if not self.__dict__.get("_sprig_released"):
            return list(self._sprig_dependencies)
        return [future for future in (ref() for ref in self._sprig_dependencies) if future is not None]

    def _release(self) -> None:
        """Once done, this future holds its dependencies weakly: nothing reads them any more but
        ``task_record["depends"]``, which lists those the script still holds."""
        dependencies = self._sprig_dependencies
        if dependencies and not self.__dict__.get("_sprig_released"):
            import weakref

            self._sprig_dependencies = [weakref.ref(future) for future in dependencies]
            record = self.__dict__.get("_sprig_record")
            if record is not None:
                record.pop("depends", None)  # (read from the weak references from now on)
        self._sprig_released = True

    def task_status(self) -> str:
        """``"pending"`` until the future is done, then ``"exec_done"``, ``"memo_done"`` (the app
        cache answered), ``"dep_fail"`` (a dependency failed) or ``"failed"`` — a coarse version of
        Parsl's task states."""
        if not self.done():
            return "pending"
        if self.cancelled():
            return "failed"
        exc = self.exception()
        if exc is None:
            return "memo_done" if _answered_from_cache(self) else "exec_done"
        return "dep_fail" if isinstance(exc, errors.DependencyError) else "failed"

    def _sprig_wait(self, timeout: float | None) -> bool | None:
        """Waits for the task in the engine, without the GIL and without this future's condition;
        when the task ends, this thread completes the futures of the tasks that ended, this one
        among them, in order (the engine's callback thread does when nobody waits). True: done;
        False: ``timeout`` passed; None: the engine does not wait for it here (not its task, or
        another thread is completing futures and completes it), wait as any Future does. A future
        with done callbacks is waited for as any Future, so that its callbacks run on the engine's
        callback thread."""
        tid = self._sprig_tid
        if tid is None or self._done_callbacks:
            return None
        engine = _engine()
        return None if engine is None else engine.wait(tid, self, timeout)

    # The engine's entry points.

    def _sprig_set_result(self, value: Any) -> None:
        """Completes the future with the app's value; its DataFutures complete with their files.
        A cached call's future has ``_sprig_memo`` set first (see :meth:`task_record`)."""
        state = "memo_done" if _answered_from_cache(self) else "exec_done"
        _ended(self._sprig_tid, state)
        if task_log.enabled():
            self._log_end(state, ran=state == "exec_done")
        if self._sprig_dependencies:
            self._release()
        self.set_result(value)
        for output in [*self._outputs, *self.__dict__.get("_sprig_std_futures", {}).values()]:
            output._parent_done(None)

    def _sprig_set_failure(self, info: dict[str, Any]) -> None:
        """Fails the future with the exception described by the engine's failure dict; its
        DataFutures fail with the same exception."""
        if self._sprig_tid is None and isinstance(info, dict):
            tid = info.get("task_id")
            if isinstance(tid, int):
                self._sprig_tid = tid
        if isinstance(info, dict) and info.get("kind") == "cancelled":
            _ended(self._sprig_tid, "failed")
            if task_log.enabled():
                self._log_end("failed", ran=False)
            self._release()
            Future.cancel(self)
            for output in self._outputs:
                Future.cancel(output)
            return
        exc = _memoized_exception(info) if isinstance(info, dict) and "memo_task_id" in info else None
        if exc is None:
            exc = errors.exception_from_failure(info, self._sprig_dependencies)
        if self._sprig_dependencies:
            self._release()
        if self.__dict__.get("_sprig_cached") and self._sprig_tid is not None:
            _failed_cached[self._sprig_tid] = exc
        state = "dep_fail" if isinstance(exc, errors.DependencyError) else "failed"
        _ended(self._sprig_tid, state)
        if task_log.enabled():
            self._log_end(state, ran=state == "failed")
        self.set_exception(exc)
        for output in [*self._outputs, *self.__dict__.get("_sprig_std_futures", {}).values()]:
            output._parent_done(exc)

    def _log_end(self, state: str, ran: bool) -> None:
        """Parsl's records of this task's end (:mod:`sprig.task_log`)."""
        if self._sprig_tid is not None:
            executors = self.__dict__.get("_sprig_executors")
            task_log.ended(self._sprig_tid, state, tuple(executors) if executors else None, ran)

    def __repr__(self) -> str:
        return _describe(self, f"tid={self._sprig_tid} app={self.app_name}")


class _TaskRecord(dict):
    """An :attr:`AppFuture.task_record` dict. Once the future is done, ``record["depends"]`` is
    worked out on each read from the weak references the future keeps (the dependencies the
    script still holds), so that the record keeps none alive."""

    def __missing__(self, key: str) -> Any:
        if key == "depends":
            return self["app_fu"]._dependencies()
        raise KeyError(key)


class DataFuture(_LazyFuture):
    """A file that an app call writes (one per entry of its ``outputs``).

    It completes with the :class:`sprig.File` when the app succeeds, and fails with the app's
    exception when it fails. Passed to another app call, it makes that call wait for the app.
    ``tid`` is the task id of the app that writes the file; ``file_obj`` the file, ``filepath``
    its path (``filename`` is the path too, as in Parsl).
    """

    def __init__(self, parent: AppFuture, file_obj: File) -> None:
        super().__init__()
        self.parent = parent
        self.file_obj = file_obj
        #: The file, read by the engine.
        self._sprig_file = file_obj

    @property
    def _sprig_tid(self) -> int | None:
        """The task id of the app writing the file, read by the engine to find dependencies."""
        return self.parent._sprig_tid

    @property
    def tid(self) -> int | None:
        """The task id of the app that writes the file."""
        return self.parent._sprig_tid

    @property
    def filepath(self) -> str:
        return self.file_obj.filepath

    @property
    def filename(self) -> str:
        """The file's path (Parsl's DataFuture.filename is the path as well)."""
        return self.file_obj.filepath

    def _sprig_wait(self, timeout: float | None) -> bool | None:
        """Waits for the app writing the file as :meth:`AppFuture._sprig_wait` does (its completion
        completes this future too)."""
        if self._done_callbacks:
            return None
        return self.parent._sprig_wait(timeout)

    def cancel(self) -> bool:
        """Cancels the app that writes the file, if it has not started (see :meth:`AppFuture.cancel`)."""
        return self.parent.cancel()

    def _parent_done(self, exc: BaseException | None) -> None:
        if exc is None:
            self.set_result(self.file_obj)
        else:
            self.set_exception(exc)

    def __repr__(self) -> str:
        return _describe(self, f"tid={self.parent._sprig_tid} file={self.file_obj.url!r}")


#: Exceptions of failed calls of cached apps, by task id: a call that reuses one gets the very
#: object (Parsl's memoized exceptions are the first future's own), in this run only.
_failed_cached: dict[int, BaseException] = {}


def _memoized_exception(info: dict[str, Any]) -> BaseException | None:
    return _failed_cached.get(info["memo_task_id"])


def _answered_from_cache(future: AppFuture) -> bool:
    memo = future.__dict__.get("_sprig_memo")
    return bool(memo and memo[1])


_engine_module: Any = None


def _engine() -> Any:
    """The ``_sprig_engine`` module under ``sprig run``, else None."""
    global _engine_module
    if _engine_module is None:
        import sys

        _engine_module = sys.modules.get("_sprig_engine")
    return _engine_module


def _ended(tid: int | None, state: str) -> None:
    """Takes an ended task out of ``dfk().tasks`` and counts its final state (``exec_done``,
    ``memo_done``, ``failed`` or ``dep_fail``) in ``dfk().task_state_counts`` — before the future completes, so
    whoever its completion wakes sees the count."""
    import sys

    api = sys.modules.get("sprig.api")
    if api is not None:
        if tid is not None:
            api._live.pop(tid, None)
        api._count_final_state(state)


def _describe(future: Future, what: str) -> str:
    # Reads the state under the future's lock, like concurrent.futures.Future.__repr__.
    with future._condition:  # type: ignore[attr-defined]
        state = future._state  # type: ignore[attr-defined]
        if state == "FINISHED":
            if future._exception is not None:  # type: ignore[attr-defined]
                tail = f"state=failed raised {type(future._exception).__name__}"  # type: ignore[attr-defined]
            else:
                tail = f"state=finished returned {type(future._result).__name__}"  # type: ignore[attr-defined]
        else:
            tail = "state=pending" if state == "PENDING" else f"state={state.lower()}"
    return f"<{type(future).__name__} at {id(future):#x} {what} {tail}>"


def _forget_when_collected(future: Future, tid: int, generation: int) -> None:
    """Tells the engine to drop failed task ``tid`` once ``future`` is garbage: until then a
    dependent may still name it (the engine's ``forget``; ``generation`` ties it to its load)."""
    import sys
    import weakref

    engine = sys.modules.get("_sprig_engine")
    if engine is not None:
        weakref.finalize(future, engine.forget, tid, generation).atexit = False

__all__ = ["AppFuture", "DataFuture"]
