"""The manager's worker processes: starting them (``python -m sprig.worker``, two pipes each: see
:mod:`sprig.worker_launch`), reading their result pipes, reaping, killing (SIGTERM to their
commands' process groups, SIGKILL after a grace) and stopping them all. What is known of each
worker is its :class:`~sprig.worker_slot.WorkerSlot` (also importable from here).

:class:`WorkerPool` is the half of :class:`sprig.manager.Manager` that owns processes; the task
routing half (:class:`sprig.dispatch.Dispatcher`) decides what a worker's output and death mean,
through ``on_result`` and ``on_death``.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import time

from sprig import process_tree
from sprig import protocol as P
from sprig.worker_handoff import KILL_WORKER, WORKER_SILENT, HandoffLink
from sprig.worker_launch import base_environment, start_worker
from sprig.worker_slot import WorkerSlot

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from sprig.manager_options import Options

log = logging.getLogger("sprig.manager")

IN = select.POLLIN | select.POLLPRI
OUT = select.POLLOUT
MAX_STARTUP_FAILURES = 3  # workers in a row that die before saying they are ready
KILL_POLL = 0.02  # seconds between checks of a killed worker's commands during their grace
SIGNAL_KILL_GRACE = 0.1  # after a signal: seconds stragglers' commands get between SIGTERM and SIGKILL
ORPHAN_REAP_WAIT = 0.5  # seconds the manager waits, at its end, for the SIGKILLed orphans to be reaped


def watch_writable(poller: select.poll, fd: int, watching: bool, done: bool) -> bool:
    """Registers ``fd`` for POLLOUT while output is pending on it (``done`` False), unregisters
    it once everything is written; returns whether it is now watched."""
    if done == watching:
        if done:
            poller.unregister(fd)
        else:
            poller.register(fd, OUT)
    return not done


class WorkerPool:
    """Worker processes of one manager, registered on the manager's poller."""

    options: Options
    poller: select.poll
    stopping: bool
    stats_due: bool
    grace: float

    def init_pool(self, options: Options) -> None:
        self.slots: list[WorkerSlot | None] = [None] * options.workers
        self.readers: dict[int, WorkerSlot] = {}  # from_fd -> slot
        self.writers: dict[int, WorkerSlot] = {}  # to_fd -> slot
        self.to_spawn: list[int] = []
        self.startup_failures = 0
        self.env = base_environment()
        self.pool_id = os.urandom(6).hex()  # PARSL_WORKER_POOL_ID: this manager's workers
        self.worker_logs: dict[int, int] = {}
        self.wake_r = -1  # the manager's signal wake-up pipe (drained while stopping)
        # Orphans of the workers' commands become this manager's children (Linux), so that none
        # outlives a worker killed even by SIGKILL.
        self.subreaper = process_tree.set_child_subreaper(True)
        self.signalled_stop = False  # stopping because of a signal: workers get SIGTERM at once
        # A local block on the two-hop path: ready workers' pipes go to the engine over this.
        self.handoff = HandoffLink(options.worker_socket) if options.worker_socket is not None else None

    # Hooks of the task-routing half.
    def on_result(self, slot: WorkerSlot, result: P.ResultRecord) -> None:
        raise NotImplementedError

    def on_death(self, slot: WorkerSlot) -> None:
        raise NotImplementedError

    def _drain_wake(self) -> None:
        raise NotImplementedError

    def _worker_log(self, index: int) -> int | None:
        if not self.options.logdir:
            return None
        fd = self.worker_logs.get(index)
        if fd is None:
            path = os.path.join(self.options.logdir, f"worker-{index}.log")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
            self.worker_logs[index] = fd
        return fd

    def spawn(self, index: int) -> None:
        """Starts worker ``index`` (``sys.executable -m sprig.worker``, see
        :func:`sprig.worker_launch.start_worker`) and registers its pipes."""
        pid, task_w, result_r = start_worker(self.options, index, self.env, self.pool_id, self._worker_log(index))
        slot = WorkerSlot(index, pid, task_w, result_r)
        self.slots[index] = slot
        self.readers[result_r] = slot
        self.writers[task_w] = slot
        self.poller.register(result_r, IN)
        self.stats_due = True
        log.info("started worker %d (pid %d)", index, pid)

    def flush_worker(self, slot: WorkerSlot) -> None:
        if slot.to_fd < 0:
            return
        try:
            done = slot.out.flush()
        except OSError as exc:
            log.warning("worker %d (pid %d) stopped reading: %s", slot.index, slot.pid, exc)
            slot.out.clear()
            done = True
        slot.writing = watch_writable(self.poller, slot.to_fd, slot.writing, done)

    def on_worker_output(self, slot: WorkerSlot) -> None:
        """Reads result frames of a worker; handles its end of file."""
        frames = self._read_worker(slot)
        if frames is None:
            self._try_reap(slot)
            return
        slot.heard = time.monotonic()
        self._take_frames(slot, frames)

    def _take_frames(self, slot: WorkerSlot, frames: list[tuple[int, memoryview]]) -> None:
        """Handles the RESULTS frames read from a worker (the first one says it is ready)."""
        for frame_type, body in frames:
            if frame_type != P.RESULTS:
                if frame_type != P.HEARTBEAT:
                    log.warning("worker %d sent a frame of type %d; ignored", slot.index, frame_type)
                continue
            if not slot.ready:
                slot.ready = True
                self.startup_failures = 0
                if self.handoff is not None:
                    self.hand_off(slot)
                    return
            try:
                results = P.parse_results(body)
            except P.ProtocolError as exc:
                log.error("worker %d (pid %d) sent a bad RESULTS frame: %s", slot.index, slot.pid, exc)
                self.kill_worker(slot)
                return
            for result in results:
                self.on_result(slot, result)

    def hand_off(self, slot: WorkerSlot) -> None:
        """Two-hop path: gives a ready worker's pipes to the engine. The manager keeps its copy of
        the worker's stdin (closed when it stops the workers, as on the relay path: the worker
        sees end of input once both sides closed it) and closes its result pipe: the engine reads
        it alone from now on. A worker the engine cannot take is killed."""
        assert self.handoff is not None
        if not self.handoff.ready(slot.index, slot.pid, slot.to_fd, slot.from_fd):
            self.kill_worker(slot)
            return
        slot.handed = True
        slot.eof = True
        self._close_reader(slot)
        log.info("handed worker %d (pid %d) to the engine", slot.index, slot.pid)

    def on_engine_frames(self, now: float) -> None:
        """Frames from the engine on the control socket: KILL_WORKER, WORKER_SILENT."""
        assert self.handoff is not None
        frames = self.handoff.receive()
        if frames is None:
            self.poller.unregister(self.handoff.fd)
            log.info("the engine closed the control socket")
            return
        for frame_type, body in frames:
            slot = self._handed_slot(body)
            if slot is None:
                continue  # an older worker's news: it has ended already
            if frame_type == KILL_WORKER:
                log.info("the engine asks to kill worker %d (pid %d): %s", slot.index, slot.pid, body.get("reason", ""))
                self.kill_worker(slot)
            elif frame_type == WORKER_SILENT:
                self.check_silent_worker(slot, now, float(body.get("silence", 0.0)))
            else:
                log.warning("ignoring control frame of unknown type %d", frame_type)

    def _handed_slot(self, body: dict) -> WorkerSlot | None:
        index, pid = body.get("worker"), body.get("pid")
        if not isinstance(index, int) or not 0 <= index < len(self.slots):
            raise P.ProtocolError(f"control frame names no worker of this manager: {body!r}")
        slot = self.slots[index]
        if slot is None or slot.pid != pid or not slot.handed or slot.status is not None:
            return None
        return slot

    def _read_worker(self, slot: WorkerSlot) -> list[tuple[int, memoryview]] | None:
        """One read from a worker's result pipe; None (and the pipe closed) at its end or when its
        stream is broken (then the worker is killed)."""
        try:
            frames = slot.reader.read()
        except P.ProtocolError as exc:
            log.error("worker %d (pid %d) broke the protocol: %s", slot.index, slot.pid, exc)
            self.kill_worker(slot)
            frames = None
        if frames is None:
            slot.eof = True
            self._close_reader(slot)
        return frames

    def kill_worker(self, slot: WorkerSlot) -> None:
        """Stops the worker and sends SIGTERM to the process groups of the commands it runs; the
        rest (SIGKILL to them and to the worker) follows in :meth:`finish_kills`, at once when
        there are no such groups, else when they are gone or after the grace."""
        if slot.killing or slot.status is not None:
            return
        slot.killing = True
        slot.kill_groups = process_tree.stop_and_terminate(slot.pid)
        if slot.kill_groups:
            slot.kill_deadline = time.monotonic() + process_tree.TERM_GRACE
        else:
            process_tree.kill_tree(slot.pid)

    def check_silent(self, now: float) -> None:
        """Kills the workers silent for more than the heartbeat threshold that are stopped (SIGSTOP)
        or used no CPU since they were last found silent: hung, not busy. (A worker whose app holds
        the GIL in a long C call sends no heartbeat but uses CPU: it is left alone.) A worker handed
        to the engine is checked when the engine says it is silent (:meth:`on_engine_frames`)."""
        for slot in self.slots:
            if slot is None or slot.handed:
                continue
            self.check_silent_worker(slot, now, now - slot.heard)

    def check_silent_worker(self, slot: WorkerSlot, now: float, silence: float) -> None:
        """The hung-worker test of :meth:`check_silent` for one worker silent for ``silence`` s."""
        if slot.killing or slot.status is not None:
            return
        if silence <= self.options.heartbeat_threshold:
            slot.silent_cpu = None
            return
        seen = process_tree.state_and_cpu(slot.pid)
        if seen is None:
            return  # ended: reaping handles it
        state, cpu = seen
        if state in ("T", "t") or cpu == slot.silent_cpu:
            how = "stopped (SIGSTOP)" if state in ("T", "t") else "using no CPU"
            log.warning("worker %d (pid %d) is silent for %.1f s and %s: killing it", slot.index, slot.pid, silence, how)
            slot.lost_reason = f"stopped answering ({how}, silent for {silence:.1f} s)"
            self.kill_worker(slot)
        else:
            slot.silent_cpu = cpu

    def finish_kills(self, now: float) -> float | None:
        """SIGKILLs the workers whose commands have ended or whose grace is over; returns the
        seconds until the next check is due (None when no kill is pending)."""
        due: float | None = None
        for slot in self.slots:
            if slot is None or slot.kill_deadline is None:
                continue
            if now >= slot.kill_deadline or not process_tree.live_children_in(slot.pid, slot.kill_groups):
                slot.kill_deadline = None
                process_tree.kill_tree(slot.pid)
            else:
                due = KILL_POLL if due is None else min(due, KILL_POLL)
        return due

    def _close_reader(self, slot: WorkerSlot) -> None:
        if slot.from_fd >= 0:
            self.poller.unregister(slot.from_fd)
            self.readers.pop(slot.from_fd, None)
            os.close(slot.from_fd)
            slot.from_fd = -1

    def _close_writer(self, slot: WorkerSlot) -> None:
        if slot.to_fd >= 0:
            if slot.writing:
                self.poller.unregister(slot.to_fd)
                slot.writing = False
            self.writers.pop(slot.to_fd, None)
            os.close(slot.to_fd)
            slot.to_fd = -1
            slot.out.clear()

    def _try_reap(self, slot: WorkerSlot) -> bool:
        """Reaps the worker if it has ended; finishes its death once reaped and at end of file."""
        if slot.status is None:
            try:
                pid, status = os.waitpid(slot.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = slot.pid, 0
            if pid == 0:
                return False
            slot.status = status
            # What its commands left behind is this manager's now (a child subreaper): killed
            # before anything of the worker's tasks is decided, so no command runs twice at once.
            self.end_orphans()
        if not slot.eof:
            # Ended, but the pipe is still open (a process it forked holds it): take what is there.
            while slot.from_fd >= 0:
                frames = self._read_worker(slot)
                if frames is None:
                    break
                self._take_frames(slot, frames)
                if slot.reader.would_block:
                    break
            slot.eof = True
            self._close_reader(slot)
        self.on_death(slot)
        return True

    def reap(self) -> None:
        for slot in list(self.slots):
            if slot is not None and (slot.status is None or not slot.eof):
                self._try_reap(slot)
        self.end_orphans()

    def worker_pids(self) -> list[int]:
        """Every worker process not reaped yet."""
        return [slot.pid for slot in self.slots if slot is not None and slot.status is None]

    def end_orphans(self) -> None:
        """SIGKILLs (the process groups of) the processes dead workers left behind, which this
        manager inherited as a child subreaper, and reaps the ended ones."""
        if self.subreaper:
            process_tree.end_orphans(self.worker_pids())

    # -- shutdown -------------------------------------------------------------------------------------

    def stop_workers(self) -> None:
        """Closes every worker's input, waits up to the grace period, then kills what is left:
        SIGTERM to the commands they run, SIGKILL to everything after the kill grace; then what
        their commands left behind is killed and reaped.

        After a signal the workers get SIGTERM at once too (each ends its command's group within
        ``process_tree.STOP_GRACE``), and the kill grace is short: everything is gone well within
        the second the engine waits before it SIGKILLs the manager's process group."""
        live = [slot for slot in self.slots if slot is not None]
        for slot in live:
            self._close_writer(slot)
        term_grace = process_tree.TERM_GRACE
        if self.signalled_stop:
            term_grace = SIGNAL_KILL_GRACE
            for slot in live:
                if slot.status is None and not slot.killing:
                    try:
                        os.kill(slot.pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
        deadline = time.monotonic() + self.grace
        pending = [slot for slot in live if slot.status is None or not slot.eof]
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for fd, _mask in self.poller.poll(int(left * 1000) + 1):
                if fd == self.wake_r:
                    self._drain_wake()
                elif fd in self.readers:
                    self._read_worker(self.readers[fd])
            for slot in pending:
                self._try_reap(slot)
            pending = [slot for slot in pending if slot.status is None or not slot.eof]
        running = [slot for slot in pending if slot.status is None]
        for slot in running:
            log.info("killing worker %d (pid %d), still running after %.2g s", slot.index, slot.pid, self.grace)
            if not slot.killing:
                slot.killing = True
                slot.kill_groups = process_tree.stop_and_terminate(slot.pid)
        end = time.monotonic() + term_grace
        waiting = [slot for slot in running if slot.kill_groups]
        while waiting and time.monotonic() < end:
            select.select([], [], [], KILL_POLL)
            waiting = [slot for slot in waiting if process_tree.live_children_in(slot.pid, slot.kill_groups)]
        for slot in running:
            process_tree.kill_tree(slot.pid)
            while True:
                try:
                    _pid, slot.status = os.waitpid(slot.pid, 0)
                    break
                except InterruptedError:
                    continue
                except ChildProcessError:
                    slot.status = 0
                    break
        if self.subreaper:
            process_tree.reap_orphans((), ORPHAN_REAP_WAIT)
        for slot in pending:
            self._close_reader(slot)
        for fd in self.worker_logs.values():
            os.close(fd)
        self.worker_logs.clear()
