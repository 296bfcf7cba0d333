"""What a manager knows of one of its worker processes: :class:`WorkerSlot` (its pid, the manager's
ends of its two pipes with their buffers, the tasks it was sent, whether it is ready, ending or
reaped). :class:`sprig.worker_pool.WorkerPool` keeps one per worker index; :mod:`sprig.dispatch`
reads and updates the task fields.
"""

from __future__ import annotations

import time
from collections import deque

from sprig import protocol as P


class WorkerSlot:
    """A worker process and what the manager knows of it."""

    __slots__ = (
        "index",
        "pid",
        "to_fd",
        "from_fd",
        "out",
        "reader",
        "inflight",
        "running",
        "known_fns",
        "ready",
        "eof",
        "status",
        "killing",
        "kill_groups",
        "kill_deadline",
        "writing",
        "heard",
        "silent_cpu",
        "lost_reason",
        "started_at",
        "recalled",
        "handed",
    )

    def __init__(self, index: int, pid: int, to_fd: int, from_fd: int) -> None:
        self.index = index
        self.pid = pid
        self.to_fd = to_fd  # its stdin (tasks), non-blocking; -1 once closed
        self.from_fd = from_fd  # its result pipe, non-blocking; -1 once closed
        self.out = P.OutBuffer(to_fd)
        self.reader = P.FrameReader(from_fd)
        self.inflight: deque[P.TaskRecord] = deque()  # sent, no result yet, in the order sent
        self.running: int | None = None  # the task it announced STARTED and has not finished
        self.known_fns: set[int] = set()
        self.ready = False  # its first (empty) RESULTS frame arrived
        self.eof = False
        self.status: int | None = None  # wait status once reaped
        self.killing = False
        self.kill_groups: list[int] = []  # its commands' process groups, sent SIGTERM
        self.kill_deadline: float | None = None  # when they get SIGKILL (with the worker)
        self.writing = False  # registered for POLLOUT
        self.heard = time.monotonic()  # when its last frame arrived (it sends HEARTBEAT)
        self.silent_cpu: int | None = None  # its CPU time when found silent (see check_silent)
        self.lost_reason: str | None = None  # why the manager killed it, when it was taken for hung
        self.started_at = 0.0  # when its running task was announced STARTED
        self.recalled: int | None = None  # the running task during which RECALL was sent
        self.handed = False  # its pipes went to the engine (two-hop path): it gets no tasks from here

    @property
    def accepting(self) -> bool:
        return not (self.handed or self.killing or self.eof or self.status is not None or self.to_fd < 0)
