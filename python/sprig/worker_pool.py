"""The manager's worker processes: starting them (``python -m sprig.worker``, two pipes each),
reading their result pipes, reaping, killing (SIGTERM to their commands' process groups, SIGKILL
after a grace) and stopping them all.

:class:`WorkerPool` is the half of :class:`sprig.manager.Manager` that owns processes; the task
routing half (:class:`sprig.dispatch.Dispatcher`) decides what a worker's output and death mean,
through ``on_result`` and ``on_death``.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import sys
import time
from collections import deque

from sprig import affinity, process_tree
from sprig import protocol as P

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

    @property
    def accepting(self) -> bool:
        return not (self.killing or self.eof or self.status is not None or self.to_fd < 0)


def _widen_pipe(fd: int) -> None:
    """Asks for a 1 MiB pipe buffer (Linux): large payloads then cross in a few writes, not 16+."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass


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
        self.env = self._worker_env()
        self.pool_id = os.urandom(6).hex()  # PARSL_WORKER_POOL_ID: this manager's workers
        self.worker_logs: dict[int, int] = {}
        self.wake_r = -1  # the manager's signal wake-up pipe (drained while stopping)
        # Orphans of the workers' commands become this manager's children (Linux), so that none
        # outlives a worker killed even by SIGKILL.
        self.subreaper = process_tree.set_child_subreaper(True)
        self.signalled_stop = False  # stopping because of a signal: workers get SIGTERM at once

    # Hooks of the task-routing half.
    def on_result(self, slot: WorkerSlot, result: P.ResultRecord) -> None:
        raise NotImplementedError

    def on_death(self, slot: WorkerSlot) -> None:
        raise NotImplementedError

    def _drain_wake(self) -> None:
        raise NotImplementedError

    def _worker_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if sys.flags.utf8_mode:
            env["PYTHONUTF8"] = "1"  # workers decode and print text as this manager does
        here = getattr(P, "__file__", None)
        if here:
            root = os.path.dirname(os.path.dirname(os.path.abspath(here)))
            paths = env.get("PYTHONPATH", "")
            if root not in paths.split(os.pathsep):
                env["PYTHONPATH"] = root + (os.pathsep + paths if paths else "")
        return env

    def _env_of(self, index: int) -> dict[str, str]:
        """The environment of worker ``index``: the manager's, plus Parsl's worker variables and,
        when it is pinned, the OpenMP ones for its CPUs."""
        env = dict(self.env)
        env["PARSL_WORKER_RANK"] = str(index)
        env["PARSL_WORKER_COUNT"] = str(self.options.workers)
        env["PARSL_WORKER_POOL_ID"] = self.pool_id
        env["PARSL_WORKER_BLOCK_ID"] = self.options.block_id
        cpus = self._cpus_of(index)
        if cpus is not None:
            env.update(affinity.openmp_environment(cpus))
        return env

    def _cpus_of(self, index: int) -> list[int] | None:
        plan = self.options.worker_cpus
        return None if plan is None else plan[index]

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
        """Starts worker ``index`` (``sys.executable -m sprig.worker``) connected by two pipes."""
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        for fd in (task_w, result_w):
            _widen_pipe(fd)
        actions = [(os.POSIX_SPAWN_DUP2, task_r, 0), (os.POSIX_SPAWN_DUP2, result_w, 1)]
        log_fd = self._worker_log(index)
        if log_fd is not None:
            actions.append((os.POSIX_SPAWN_DUP2, log_fd, 2))
        argv = [sys.executable, "-m", "sprig.worker", "--index", str(index), "--manager-pid", str(os.getpid()),
                "--heartbeat-period", repr(self.options.heartbeat_period)]
        if self.options.worker_debug:
            argv.append("--debug")
        cpus = self._cpus_of(index)
        if cpus is not None:
            argv += ["--cpus", ",".join(str(cpu) for cpu in cpus)]
        try:
            pid = os.posix_spawn(
                sys.executable,
                argv,
                self._env_of(index),
                file_actions=actions,
                setsigmask=(),
                setsigdef=(signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD),
            )
        except OSError:
            os.close(task_w)
            os.close(result_r)
            raise
        finally:
            os.close(task_r)
            os.close(result_w)
        os.set_blocking(task_w, False)
        os.set_blocking(result_r, False)
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
            try:
                results = P.parse_results(body)
            except P.ProtocolError as exc:
                log.error("worker %d (pid %d) sent a bad RESULTS frame: %s", slot.index, slot.pid, exc)
                self.kill_worker(slot)
                return
            for result in results:
                self.on_result(slot, result)

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
        the GIL in a long C call sends no heartbeat but uses CPU: it is left alone.)"""
        threshold = self.options.heartbeat_threshold
        for slot in self.slots:
            if slot is None or slot.killing or slot.status is not None:
                continue
            silence = now - slot.heard
            if silence <= threshold:
                slot.silent_cpu = None
                continue
            seen = process_tree.state_and_cpu(slot.pid)
            if seen is None:
                continue  # ended: reaping handles it
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
