"""A Sprig worker process: runs the tasks its manager sends, in order, and reports each result.

Started by the manager as ``python -m sprig.worker --index I --manager-pid P [--debug]
[--cpus 0,1] [--heartbeat-period S] [--resource-interval S] [--shared-memory PREFIX]``
(``--cpus``: the CPUs it is pinned to, see sprig.affinity; ``--resource-interval``: sample
resource use, see sprig.resources; ``--shared-memory``: large result buffers go to segments of
the run prefix PREFIX, see sprig.segments) with its
stdin and stdout connected to the manager by pipes (frames as in protocol.py) and its stderr on
the worker log. Frames on the manager link:

* in:  TASKS (a batch, run in order), KILL_TASK (skip a task not started yet), RECALL (give back
  the tasks not started yet), SHUTDOWN.
* out: RESULTS -- one empty frame when ready; then, before each task starts, one frame holding the
  result of the task that just finished (if any), SKIPPED entries for killed tasks dropped from
  the head of the queue, and STARTED (with this worker's pid) for the task about to run. With
  ``--resource-interval``, a RESOURCE sample comes before the result of every task that ran
  for ``SAMPLED_TRY`` (10 ms) or more, and of a shorter one when this worker has sent no sample
  for an interval (so a burst of no-ops costs a sample per worker per interval, not one each),
  and one more every interval while a task runs (from the watch thread). So the manager always knows
  which task a worker runs: the last one announced STARTED and not finished. RECALL is answered
  with RECALLED (or SKIPPED) entries, at once even while a task runs. HEARTBEAT every
  heartbeat period, from a thread: a worker that stops sending them is taken for hung.

This module is the loop (:class:`Worker`) and the process's start; running one task is
:class:`sprig.task_runner.Runner` (also importable from here).
"""

from __future__ import annotations

import logging
import os
import sys
from collections import deque

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from typing import Any

    from sprig.resources import Sampler

from sprig import process_tree
from sprig import protocol as P
from sprig.isolation import die_with_parent, isolate_stdio
from sprig.task_runner import Runner

#: Seconds a try must run to get a resource sample of its own when monitoring samples resources
#: (shorter ones are sampled at most once per worker per interval).
SAMPLED_TRY = 0.010

log = logging.getLogger("sprig.worker")


#: Seconds a task runs before the watch thread takes over reading the manager's frames (so that
#: RECALL and KILL_TASK are answered while it runs), and the watch thread's tick otherwise.
TAKEOVER = 0.02


class Worker:
    """The worker's loop: reads frames, runs its queue in order, writes one frame per task.

    Threads: the main thread runs tasks and, between them, reads the manager's frames. A daemon
    watch thread sends HEARTBEAT every ``heartbeat_period`` (and exits the process, killing the
    running command's group, if the manager is gone), and once a task has run for
    :data:`TAKEOVER` seconds it reads the manager's frames itself until the task ends, so that a
    RECALL is answered while a long task runs. With a ``resource_interval`` the watch thread also
    sends a resource sample of the running task every interval. ``input_lock`` guards the reader,
    the queue, the skip set, the replies and which task runs; ``write_lock`` makes each frame
    written whole.
    """

    def __init__(self, fd_in: int, fd_out: int, manager_pid: int, heartbeat_period: float = 1.0,
                 resource_interval: float | None = None, shared_memory: str | None = None) -> None:
        import threading

        self.fd_out = fd_out
        self.reader = P.FrameReader(fd_in)
        self.manager_pid = manager_pid
        self.heartbeat_period = heartbeat_period
        self.queue: deque[P.TaskRecord] = deque()
        self.skip: set[int] = set()
        self.replies: list[P.Buffer] = []  # RECALLED/SKIPPED entries answering a RECALL, unwritten
        self.runner = Runner(shared_memory)
        self.stopping = False
        self.running_since: float | None = None  # when the task running now started
        self.running_task = 0  # its id (while running_since is set)
        self.started_data = P.U32.pack(os.getpid())  # the data of STARTED entries
        self.sampler: Sampler | None = None
        if resource_interval:  # (imported only then: a worker without monitoring starts as before)
            from sprig.resources import Sampler

            self.sampler = Sampler(resource_interval)
        self.next_sample = 0.0  # when the running task's next resource sample is due
        self.last_sample = float("-inf")  # when this worker last sent a sample (monotonic)
        self.input_lock = threading.Lock()
        self.write_lock = threading.Lock()

    def serve(self) -> None:
        """Runs until SHUTDOWN, end of input, or the manager going away.

        Input is read when the queue is empty and right after a task finished; the frame
        written next holds that task's result, SKIPPED entries for killed tasks that were at the
        head of the queue, and STARTED for the task run next, which then runs at once.
        """
        import select
        import threading
        import time

        poller = select.poll()
        poller.register(self.reader.fd, select.POLLIN)
        self._write([])  # ready
        threading.Thread(target=self._watch, name="sprig-worker-watch", daemon=True).start()
        entries: list[P.Buffer] = []  # to write before the next task starts (or before waiting)
        while True:
            with self.input_lock:
                if not self.stopping:
                    self._drain()
                entries += self.replies
                self.replies = []
                entries += self._skipped()
                task = None
                if self.queue and not self.stopping:
                    task = self.queue.popleft()
                    started = time.monotonic()
                    if self.sampler is not None:  # (set first: the watch thread reads without the lock)
                        self.next_sample = started + self.sampler.interval
                    self.running_task = task.task_id
                    self.running_since = started
            if task is None:
                if entries:
                    self._write(entries)  # the last result, also when stopping
                    entries = []
                if self.stopping:
                    return
                if not poller.poll(1000) and os.getppid() != self.manager_pid:
                    log.warning("manager %d is gone; exiting", self.manager_pid)
                    return
                continue
            entries += P.result_pieces(task.task_id, P.STATUS_STARTED, self.started_data)
            self._write(entries)
            log.debug("running task %d (kind %d)", task.task_id, task.kind)
            status, data = self.runner.run(task)
            _flush_std_streams()
            with self.input_lock:
                self.running_since = None
            entries = P.result_pieces(task.task_id, status, data)
            if self.sampler is not None:  # the try's last sample, ahead of its result
                ended = time.monotonic()
                if ended - started >= SAMPLED_TRY or ended - self.last_sample >= self.sampler.interval:
                    entries = P.result_pieces(task.task_id, P.STATUS_RESOURCE, self.sampler.end_of_try()) + entries
                    self.last_sample = ended

    def _watch(self) -> None:
        """The watch thread: heartbeats, the manager's death, and input during long tasks."""
        import select
        import time

        poller = select.poll()
        poller.register(self.reader.fd, select.POLLIN)
        next_beat = time.monotonic() + self.heartbeat_period
        while True:
            now = time.monotonic()
            if now >= next_beat:
                if os.getppid() != self.manager_pid:
                    self._manager_gone()
                self._write_frame(P.frame(P.HEARTBEAT))
                next_beat = now + self.heartbeat_period
            since = self.running_since
            if since is not None and self.sampler is not None and now >= self.next_sample:
                self._send_sample(since)
            wait = min(next_beat - now, TAKEOVER)
            if since is None or self.stopping or now < since + TAKEOVER:
                if since is not None:
                    wait = min(wait, since + TAKEOVER - now)
                time.sleep(max(wait, 0.001))
                continue
            if not poller.poll(int(wait * 1000) + 1):
                continue
            with self.input_lock:
                if self.running_since is None or self.stopping:
                    continue  # the main thread reads again
                self._drain()
                replies, self.replies = self.replies, []
            if replies:
                self._write(replies)

    def _send_sample(self, since: float) -> None:
        """On the watch thread: a resource sample of the task that has run since ``since``, sent
        unless that task has ended meanwhile (its last sample then comes with its result)."""
        import time

        assert self.sampler is not None
        data = self.sampler.sample(descendants=True)
        with self.input_lock:  # held while writing: the task's result cannot overtake the sample
            if self.running_since != since:
                return
            due = self.next_sample + self.sampler.interval
            now = time.monotonic()
            self.next_sample = due if due > now else now + self.sampler.interval  # late: no burst to catch up
            self._write(P.result_pieces(self.running_task, P.STATUS_RESOURCE, data))
            self.last_sample = now

    def _manager_gone(self) -> None:
        """The manager died and the SIGTERM PR_SET_PDEATHSIG sends did not end this worker (an app
        ignores it): kill the running command's group, and exit."""
        from sprig import bash

        log.warning("manager %d is gone; exiting", self.manager_pid)
        if bash.running is not None:
            process_tree.signal_group(bash.running, 9)
        _flush_std_streams()
        os._exit(1)

    def _drain(self) -> None:
        """Reads every frame available now (the input descriptor is non-blocking); with
        ``input_lock`` held. A read that got less than it asked for took everything there was:
        no second read to find the pipe empty (what comes later is read after the next task, or
        when poll says so)."""
        while True:
            frames = self.reader.read()
            if frames is None:
                log.info("input closed; exiting")
                self.stopping = True
                return
            for frame_type, body in frames:
                self._handle(frame_type, body)
            if self.reader.would_block or self.reader.drained or self.stopping:
                return

    def _handle(self, frame_type: int, body: memoryview) -> None:
        if frame_type == P.TASKS:
            for task in P.parse_tasks(body):
                self.runner.remember(task)
                self.queue.append(task)
        elif frame_type == P.KILL_TASK:
            (task_id,) = P.U64.unpack_from(body, 0)
            self.skip.add(task_id)
        elif frame_type == P.RECALL:
            self._recall()
        elif frame_type == P.SHUTDOWN:
            log.info("shutdown requested")
            self.stopping = True
        else:
            log.warning("ignoring frame of type %d", frame_type)

    def _recall(self) -> None:
        """RECALL: gives back every task not started yet (SKIPPED for those killed meanwhile)."""
        while self.queue:
            task = self.queue.popleft()
            status = P.STATUS_RECALLED
            if task.task_id in self.skip:
                self.skip.discard(task.task_id)
                status = P.STATUS_SKIPPED
            self.replies.extend(P.result_pieces(task.task_id, status, b""))
        log.debug("recalled; %d entries to send", len(self.replies) // 2)

    def _skipped(self) -> list[P.Buffer]:
        """SKIPPED entries for killed tasks at the head of the queue (which are dropped)."""
        entries: list[P.Buffer] = []
        while self.queue and self.queue[0].task_id in self.skip:
            task = self.queue.popleft()
            self.skip.discard(task.task_id)
            log.debug("skipping killed task %d", task.task_id)
            entries.extend(P.result_pieces(task.task_id, P.STATUS_SKIPPED, b""))
        return entries

    def _write(self, pieces: list[P.Buffer]) -> None:
        """Writes one RESULTS frame holding the given result entries (maybe none)."""
        count = _count_entries(pieces)
        body_len = 4 + sum(len(piece) for piece in pieces)
        with self.write_lock:
            P.write_all(self.fd_out, [P.frame_header(P.RESULTS, body_len), P.U32.pack(count), *pieces])

    def _write_frame(self, frame: bytes) -> None:
        with self.write_lock:
            P.write_all(self.fd_out, [frame])


def _count_entries(pieces: list[P.Buffer]) -> int:
    """Entries in a list of result pieces (each entry is a header piece and a data piece)."""
    return len(pieces) // 2


def _flush_std_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _exit_on_sigterm(number: int, _frame: Any) -> None:
    """SIGTERM (from the manager, from anyone, or PR_SET_PDEATHSIG when the manager dies): while a
    bash command runs, unwind through sprig.bash, which ends its group within
    ``process_tree.STOP_GRACE``; otherwise exit at once, as the default action would. Later
    SIGTERMs are ignored, so that they cannot cut that clean-up short."""
    import signal

    from sprig import bash

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if bash.running is not None:
        bash.stopping = True
        raise SystemExit(128 + number)
    _flush_std_streams()
    os._exit(128 + number)


def _parse_args(argv: list[str]) -> tuple[int, int, bool, list[int] | None, float, float | None, str | None]:
    index, manager_pid, debug, cpus, period, interval, shared = 0, os.getppid(), False, None, 1.0, None, None
    args = iter(argv)
    for arg in args:
        if arg == "--index":
            index = int(next(args))
        elif arg == "--manager-pid":
            manager_pid = int(next(args))
        elif arg == "--debug":
            debug = True
        elif arg == "--cpus":
            cpus = [int(word) for word in next(args).split(",")]
        elif arg == "--heartbeat-period":
            period = float(next(args))
        elif arg == "--resource-interval":
            interval = float(next(args))
        elif arg == "--shared-memory":
            shared = next(args)
        else:
            raise SystemExit(f"sprig.worker: unknown argument {arg!r}")
    return index, manager_pid, debug, cpus, period, interval, shared


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m sprig.worker --index I --manager-pid P [--debug] [--cpus LIST]
    [--heartbeat-period S] [--resource-interval S] [--shared-memory PREFIX]``."""
    fd_in, fd_out = isolate_stdio()
    if os.environ.pop("SPRIG_MALLOC_TUNED", None):  # glibc read them at start: apps' commands do not inherit them
        os.environ.pop("MALLOC_MMAP_THRESHOLD_", None)
        os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    # SIGTERM, not SIGKILL, when the manager dies: the worker then ends its command first.
    die_with_parent(15)
    index, manager_pid, debug, cpus, period, interval, shared = _parse_args(sys.argv[1:] if argv is None else argv)
    if os.getppid() != manager_pid:
        return 1  # the manager died before PR_SET_PDEATHSIG took effect
    if cpus is not None:
        os.sched_setaffinity(0, cpus)  # before any thread starts: every thread inherits it
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    # Told to stop (by the manager's kill, or anyone's): end the running bash command's process
    # group first (sprig.bash does, as the SystemExit passes), then exit.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        stream=sys.stderr,
        format=f"%(asctime)s worker-{index}[%(process)d] %(levelname)s %(message)s",
    )
    os.set_blocking(fd_in, False)
    log.debug("worker %d started (manager %d)", index, manager_pid)
    try:
        Worker(fd_in, fd_out, manager_pid, period, interval, shared).serve()
    except SystemExit as stop:  # SIGTERM while a command ran: its group is ended by now
        _flush_std_streams()
        os._exit(stop.code if isinstance(stop.code, int) else 1)
    except BrokenPipeError:
        log.info("manager closed the result pipe; exiting")
    except P.ProtocolError as exc:
        log.error("protocol error: %s", exc)
        return 1
    finally:
        _flush_std_streams()
    return 0


if __name__ == "__main__":
    sys.exit(main())
