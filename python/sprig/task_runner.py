"""Running one task inside a worker: :class:`Runner` unpickles the task's function (once per
function key) and arguments, calls it, or runs its bash command (:mod:`sprig.bash`), and gives
back ``(status, data)``: OK with the pickled value, or FAILED with failure JSON
(:mod:`sprig.failures`). The worker's loop (:mod:`sprig.worker`) decides when a task runs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from typing import Any

from sprig import protocol as P
from sprig import serialize
from sprig.bash import run_bash
from sprig.failures import TaskFailure, exception_info, failure, qualified_name, to_json

log = logging.getLogger("sprig.worker")  # the worker's log, as before this module was split out


class Runner:
    """Runs single tasks; keeps unpickled functions by key."""

    def __init__(self, shared_memory: str | None = None) -> None:
        #: The run's segment prefix (a local block): large result buffers go to segments; else inline.
        self.shared_memory = shared_memory
        self.functions: dict[int, Callable[..., Any]] = {}
        self.function_bytes: dict[int, bytes] = {}  # received, not unpickled (yet, or it failed)

    def run(self, task: P.TaskRecord) -> tuple[int, bytes]:
        """(status, data) of one task: OK with the pickled value, or FAILED with failure JSON."""
        try:
            if task.kind == P.KIND_PYTHON:
                value = self._call(task)
            elif task.kind == P.KIND_BASH_FROM_PYTHON:
                command = self._call(task)
                if not isinstance(command, str):
                    raise failure(
                        "bad_command",
                        "BadCommand",
                        f"the function of bash app task {task.task_id} returned a "
                        f"{qualified_name(type(command))}, not a str holding the command",
                    )
                value = run_bash(command, self._options(task))
            elif task.kind == P.KIND_BASH:
                options = self._options(task)
                command = options.get("command")
                if not isinstance(command, str):
                    raise failure("bad_command", "BadCommand", f"bash app task {task.task_id} has no \"command\" string")
                value = run_bash(command, options)
            else:
                raise failure("python", "ValueError", f"task {task.task_id} has unknown kind {task.kind}")
        except TaskFailure as exc:
            return P.STATUS_FAILED, to_json(exc.info)
        except Exception as exc:  # a bug here rather than in the app: still report it
            log.exception("task %d failed inside the worker", task.task_id)
            return P.STATUS_FAILED, to_json(exception_info("python", exc))
        try:
            return P.STATUS_OK, serialize.dumps_result(value, self.shared_memory)
        except serialize.SerializationError as exc:
            info = exception_info("serialization", exc)
            info["message"] = f"task {task.task_id}: {exc}"
            return P.STATUS_FAILED, to_json(info)
        except BaseException as exc:  # a __reduce__ that raised something odd
            return P.STATUS_FAILED, to_json(exception_info("serialization", exc))

    def remember(self, task: P.TaskRecord) -> None:
        """Keeps the function bytes a task brought (on arrival: a later task may need them even if
        this one is skipped)."""
        if len(task.fn) and task.fn_key not in self.functions:
            self.function_bytes[task.fn_key] = bytes(task.fn)

    def _function(self, task: P.TaskRecord) -> Callable[..., Any]:
        fn = self.functions.get(task.fn_key)
        if fn is not None:
            return fn
        data = self.function_bytes.get(task.fn_key)
        if data is None:
            raise failure(
                "serialization", "KeyError", f"task {task.task_id}: function key {task.fn_key} is unknown to this worker"
            )
        try:
            fn = serialize.loads(data)
        except BaseException as exc:
            info = exception_info("serialization", exc)
            info["message"] = f"task {task.task_id}: cannot unpickle its function: {exc}"
            raise TaskFailure(info) from None
        self.functions[task.fn_key] = fn
        del self.function_bytes[task.fn_key]
        return fn

    def _call(self, task: P.TaskRecord) -> Any:
        fn = self._function(task)
        try:
            # Its argument segments are this task's alone: unlinked as soon as they are open.
            args, kwargs = serialize.loads(task.payload(), consume=True)
            args, kwargs = serialize.resolve_call(args, kwargs)
        except BaseException as exc:
            info = exception_info("serialization", exc)
            info["message"] = f"task {task.task_id}: cannot unpickle its arguments: {exc}"
            raise TaskFailure(info) from None
        try:
            return fn(*args, **kwargs)
        except BaseException as exc:
            raise TaskFailure(exception_info("python", exc, skip_frames=1)) from None

    @staticmethod
    def _options(task: P.TaskRecord) -> dict[str, Any]:
        raw = task.options()
        if not len(raw):
            return {}
        try:
            options = json.loads(bytes(raw).decode("utf-8"))
        except ValueError as exc:
            raise failure("bad_command", "ValueError", f"task {task.task_id}: options are not JSON: {exc}") from None
        if not isinstance(options, dict):
            raise failure("bad_command", "ValueError", f"task {task.task_id}: options are not a JSON object")
        return options
