"""Process-tree control through /proc: finding a process's children and a group's members, and
ending them in two steps (SIGTERM, then SIGKILL after a grace).

Used by the manager on its workers and by a worker on the bash commands it runs. A bash command
leads a session (and so a process group) of its own; everything it starts stays in that group
unless it makes a session of its own too.

Reuse of process ids is guarded against by never reaping a process while its children or group
are being signalled: a worker being killed is stopped (SIGSTOP) first, so the commands it started
stay unreaped; a worker ending a command waits for it without reaping (``WNOWAIT``) until its
group has been ended.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from collections.abc import Iterable

#: Seconds a command's process group gets between SIGTERM and SIGKILL.
TERM_GRACE = 1.0

#: The same when the worker or manager running it is told to stop by a signal: the engine sends
#: SIGTERM to a manager's process group on Ctrl-C and SIGKILL about 1 s later, by which time
#: every command must be gone.
STOP_GRACE = 0.2


def stat_fields(pid: int | str) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first, so field N of proc(5) is at
    index N - 3), or None when gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def state_and_cpu(pid: int) -> tuple[str, int] | None:
    """(state letter, CPU time used in clock ticks) of a process from /proc, None when gone. A
    process stopped by SIGSTOP is ``T`` (``t`` when traced)."""
    fields = stat_fields(pid)
    if fields is None or len(fields) < 13:
        return None
    return fields[0], int(fields[11]) + int(fields[12])


def children_of(pid: int) -> list[int]:
    """PIDs of the children of a process (from /proc)."""
    found: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as handle:
                found.extend(int(word) for word in handle.read().split())
        except OSError:
            return _children_by_scan(pid)
    return found


def descendants_of(pid: int) -> list[int]:
    """PIDs of every descendant of a process (its children, theirs, and so on), from /proc: the
    kernel's children files where it has them, else one pass over every process's parent."""
    by_parent = None if _has_children_files() else _children_by_parent()
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        below = children_of(parent) if by_parent is None else by_parent.get(parent, [])
        found.extend(below)
        todo.extend(below)
    return found


def _children_by_parent() -> dict[int, list[int]]:
    by_parent: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = stat_fields(name)
            if fields is not None and len(fields) > 1:
                by_parent.setdefault(int(fields[1]), []).append(int(name))
    return by_parent


_children_files: bool | None = None


def _has_children_files() -> bool:
    """Whether the kernel has /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN)."""
    global _children_files
    if _children_files is None:
        me = os.getpid()
        _children_files = os.path.exists(f"/proc/{me}/task/{me}/children")
    return _children_files


def _children_by_scan(pid: int) -> list[int]:
    return _children_by_parent().get(pid, [])


def live_children_in(pid: int, groups: Iterable[int]) -> list[int]:
    """The children of ``pid`` that are alive (not zombies) and in one of the process ``groups``.

    With ``pid`` a child subreaper (:func:`set_child_subreaper`), every process a command left
    behind is a child of ``pid`` or below one, so this finds whether a command's group still
    lives by reading a few files, not all of /proc."""
    wanted = set(groups)
    found: list[int] = []
    for child in children_of(pid):
        fields = stat_fields(child)
        if fields is not None and len(fields) > 2 and fields[0] not in ("Z", "X") and int(fields[2]) in wanted:
            found.append(child)
    return found


def set_child_subreaper(on: bool) -> bool:
    """Makes orphaned descendants of this process its children (Linux PR_SET_CHILD_SUBREAPER),
    or stops doing so; False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(36, 1 if on else 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def signal_group(pgid: int, number: int) -> None:
    """``killpg``, quiet when the group is gone."""
    try:
        os.killpg(pgid, number)
    except (ProcessLookupError, PermissionError):
        pass


def end_group(pgid: int, grace: float = TERM_GRACE) -> None:
    """Ends process group ``pgid``, whose leader is a child of this process (a child subreaper),
    alive or exited and unreaped: nothing when none of its members lives; else SIGTERM, and
    SIGKILL after ``grace`` seconds to what still lives. The members this process inherited are
    reaped; the leader is not (its owner reaps it)."""
    me = os.getpid()
    live = live_children_in(me, (pgid,))
    if not live:
        return
    signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    delay = 0.001
    seen = {child for child in live if child != pgid}
    while live and time.monotonic() < deadline:
        select.select([], [], [], delay)
        delay = min(delay * 2, 0.05)
        _reap(seen, block=False)
        live = live_children_in(me, (pgid,))
        seen.update(child for child in live if child != pgid)
    signal_group(pgid, signal.SIGKILL)
    _reap(seen, block=True)


def _reap(pids: set[int], block: bool) -> None:
    """Reaps those of ``pids`` that have ended (waiting for each when ``block``)."""
    for pid in list(pids):
        try:
            done, _status = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            done = pid
        except InterruptedError:
            continue
        if done:
            pids.discard(pid)


def groups_led_by_children(pid: int) -> list[int]:
    """The children of ``pid`` that lead process groups (a worker's bash commands)."""
    groups: list[int] = []
    for child in children_of(pid):
        try:
            if os.getpgid(child) == child:
                groups.append(child)
        except ProcessLookupError:
            pass
    return groups


def stop_and_terminate(pid: int) -> list[int]:
    """First step of ending a child worker: stops it (SIGSTOP: nothing of it is reaped from now
    on) and sends SIGTERM to the process groups its children lead; returns those groups (for
    :func:`kill_tree` after the grace). An empty list means there is nothing to wait for."""
    try:
        os.kill(pid, signal.SIGSTOP)
    except ProcessLookupError:
        return []
    groups = groups_led_by_children(pid)
    for group in groups:
        signal_group(group, signal.SIGTERM)
    return groups


def kill_tree(pid: int) -> None:
    """SIGKILLs an unreaped child worker and the processes (groups) it started.

    The worker is stopped first so that its children cannot be reaped (and their PIDs reused)
    while they are being killed.
    """
    try:
        os.kill(pid, signal.SIGSTOP)
    except ProcessLookupError:
        return
    for child in children_of(pid):
        try:
            if os.getpgid(child) == child:
                os.killpg(child, signal.SIGKILL)
            else:
                os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def end_orphans(keep: Iterable[int]) -> list[int]:
    """Ends the processes this process (a child subreaper) inherited: each child not in ``keep``
    (the manager's workers) was left behind by a dead worker's command. Its process group (when
    it is not this process's own) and the child itself get SIGKILL at once; children that have
    already ended are reaped. Returns the children signalled, still to be reaped."""
    me = os.getpid()
    own_group = os.getpgid(0)
    kept = set(keep)
    signalled: list[int] = []
    for child in children_of(me):
        if child in kept:
            continue
        fields = stat_fields(child)
        if fields is None or fields[0] in ("Z", "X"):
            _reap({child}, block=False)
            continue
        group = int(fields[2]) if len(fields) > 2 else own_group
        if group != own_group:
            signal_group(group, signal.SIGKILL)
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
        signalled.append(child)
    return signalled


def reap_orphans(keep: Iterable[int], seconds: float) -> None:
    """Ends and reaps (for at most ``seconds``) every inherited child not in ``keep``, including
    those its dying children leave behind in turn."""
    deadline = time.monotonic() + seconds
    while True:
        left = end_orphans(keep)
        if not left or time.monotonic() >= deadline:
            return
        select.select([], [], [], 0.002)
        _reap(set(left), block=False)


def describe_status(status: int | None) -> tuple[int | None, int | None, str]:
    """(signal, exit code, words) of a wait status."""
    if status is None:
        return None, None, "ended"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return number, None, f"died (signal {number})"
    code = os.WEXITSTATUS(status)
    return None, code, f"exited (exit code {code})"
