"""Bash apps on a worker: the execution contract (PROTOCOL.md, "Bash apps").

* The command runs as ``/bin/bash -c COMMAND`` with stdin on ``/dev/null``, in a new session (so
  a process group) of its own, with the worker's environment and working directory.
* stdout and stderr go to their targets (``[path, mode]``, mode ``"a"`` or ``"w"``), parent
  folders created; when both name the same file (after normalising the path) it is opened once,
  truncated if either mode is ``"w"``, and the descriptor is shared. Without a target a stream
  goes to the worker's stderr (its log).
* No process of the command outlives its task: once bash has exited, what is left of its process
  group gets SIGTERM, then SIGKILL after :data:`sprig.process_tree.TERM_GRACE`; the same happens
  when the worker is told to stop (SIGTERM) while the command runs, with the shorter
  :data:`sprig.process_tree.STOP_GRACE`. (A kill from the manager,
  for KILL_TASK or at shutdown, ends the group the same way, from outside.)
* Non-zero exit: ``bash_exit`` (signal N gives 128+N); exit 0 with ``outputs`` missing:
  ``missing_outputs``; a target that cannot be opened: ``bad_std_stream``.
"""

from __future__ import annotations

import os

from sprig import process_tree
from sprig.failures import failure, qualified_name

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from typing import Any

BASH = "/bin/bash"

#: The pid of the bash command running now, if any (a worker runs one task at a time).
running: int | None = None

#: Set by the worker's SIGTERM handler: the running command is being ended because the worker
#: stops. Its group then gets :data:`sprig.process_tree.STOP_GRACE`, and whatever else the
#: command left behind (a ``setsid`` child the worker inherited) is SIGKILLed too.
stopping = False


def _redirect(spec: Any) -> tuple[str, str] | None:
    """(path, mode) from an options ``stdout``/``stderr`` entry: null, "path" or [path, mode]."""
    if spec is None:
        return None
    if isinstance(spec, str):
        return spec, "a"
    if isinstance(spec, (list, tuple)) and len(spec) in (1, 2) and isinstance(spec[0], str):
        mode = spec[1] if len(spec) == 2 and spec[1] is not None else "a"
        return spec[0], str(mode)
    raise failure("bad_std_stream", "BadStdStreamFile", f"not a stream target: {spec!r}", path=str(spec))


def _open_target(path: str, truncate: bool) -> int:
    """Opens a stdout/stderr target (appending, or truncating), creating its folder."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_TRUNC if truncate else os.O_APPEND)
    try:
        try:
            return os.open(path, flags, 0o644)
        except FileNotFoundError:
            folder = os.path.dirname(path)
            if not folder:
                raise
            os.makedirs(folder, exist_ok=True)
            return os.open(path, flags, 0o644)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise failure("bad_std_stream", "BadStdStreamFile", f"cannot open {path}: {reason}", path=path) from None


def open_streams(options: dict[str, Any]) -> tuple[list[int | None], list[int]]:
    """([stdout fd, stderr fd] (None: inherit), the descriptors to close once bash started)."""
    out, err = _redirect(options.get("stdout")), _redirect(options.get("stderr"))
    fds: list[int | None] = [None, None]
    opened: list[int] = []
    try:
        if out is not None and err is not None and os.path.abspath(out[0]) == os.path.abspath(err[0]):
            truncate = out[1].startswith("w") or err[1].startswith("w")
            fds[0] = fds[1] = _open_target(out[0], truncate)
            opened.append(fds[0])
            return fds, opened
        for slot, target in enumerate((out, err)):
            if target is not None:
                fds[slot] = _open_target(target[0], target[1].startswith("w"))
                opened.append(fds[slot])  # type: ignore[arg-type]
    except BaseException:
        for fd in opened:
            os.close(fd)
        raise
    return fds, opened


def _wait_unreaped(pid: int) -> None:
    """Waits until ``pid`` has exited, leaving it a zombie (so its id, which is also its process
    group's, cannot be reused while the group is ended)."""
    while True:
        try:
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
            return
        except ChildProcessError:
            return
        except InterruptedError:
            continue


def run_bash(command: str, options: dict[str, Any]) -> int:
    """Runs ``command`` under the contract above; returns 0 or raises TaskFailure (bad_std_stream,
    bad_command, bash_exit, missing_outputs)."""
    import subprocess

    fds, opened = open_streams(options)
    process_tree.set_child_subreaper(True)  # what the command leaves behind stays in reach
    try:
        try:
            process = subprocess.Popen([BASH, "-c", command], stdin=subprocess.DEVNULL, stdout=fds[0],
                                       stderr=fds[1], start_new_session=True, close_fds=True)
        except OSError as exc:
            process_tree.set_child_subreaper(False)
            raise failure("bad_command", qualified_name(type(exc)), f"cannot start {BASH}: {exc}") from None
    finally:
        for fd in opened:
            os.close(fd)
    global running
    running = process.pid
    try:
        _wait_unreaped(process.pid)
    finally:  # also when the worker is told to stop (its SIGTERM handler raises SystemExit here)
        running = None
        process_tree.end_group(process.pid, process_tree.STOP_GRACE if stopping else process_tree.TERM_GRACE)
        if stopping:
            process_tree.reap_orphans((process.pid,), process_tree.STOP_GRACE)
        code = process.wait()
        process_tree.set_child_subreaper(False)
    if code < 0:
        code = 128 - code
    if code != 0:
        raise failure("bash_exit", "BashExitFailure", f"bash command exited with code {code}", exit_code=code)
    outputs = options.get("outputs") or []
    missing = [str(path) for path in outputs if not os.path.exists(str(path))]
    if missing:
        raise failure("missing_outputs", "MissingOutputs", "missing outputs: " + ", ".join(missing), missing=missing)
    return 0

