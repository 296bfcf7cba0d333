"""A Sprig manager: one per block; relays tasks from the interchange to its worker processes.

Started as ``python3.11 -m sprig.manager --workers N --block-id B [--logdir DIR]
[--heartbeat-period S] [--heartbeat-threshold S] [--prefetch K] [--cpu-affinity A] [--worker-debug]``.
It talks to the interchange only through its stdin (frames in) and stdout (frames out), and to
each worker through two pipes. It never unpickles task payloads or results: it forwards the byte
ranges it received. See PROTOCOL.md for the frames and the rules.

Exit status: 0 after SHUTDOWN or end of input, 1 internal or protocol error, 2 bad arguments,
3 HELLO_ACK refused, 4 workers keep failing to start, 5 no frames from the interchange within the
heartbeat threshold, 128+N after signal N (SIGTERM, SIGINT, SIGHUP).
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import sys
import time
from collections import deque
TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from typing import Any

from sprig import affinity
from sprig import protocol as P
from sprig import serialize
from sprig import worker as worker_module

log = logging.getLogger("sprig.manager")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_WORKERS = 4
EXIT_HEARTBEAT = 5

SHUTDOWN_GRACE = 2.0  # seconds workers get to stop after SHUTDOWN
QUICK_GRACE = 0.25  # after end of input, a lost interchange, a refusal or a signal
MAX_STARTUP_FAILURES = 3  # workers in a row that die before saying they are ready

_IN = select.POLLIN | select.POLLPRI
_OUT = select.POLLOUT


class Options:
    """Command-line options of the manager."""

    __slots__ = (
        "workers",
        "block_id",
        "logdir",
        "heartbeat_period",
        "heartbeat_threshold",
        "prefetch",
        "worker_debug",
        "cpu_affinity",
        "worker_cpus",
    )

    def __init__(self) -> None:
        self.workers = 1
        self.block_id = "0"
        self.logdir: str | None = None
        self.heartbeat_period = 1.0
        self.heartbeat_threshold = 10.0
        self.prefetch = 3
        self.worker_debug = False
        self.cpu_affinity = affinity.NONE
        self.worker_cpus: list[list[int]] | None = None  # by worker index; None: not pinned


def parse_args(argv: list[str]) -> Options:
    """Parses the command line (exits with status 2 on a bad one)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m sprig.manager", description="Sprig block manager")
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--block-id", required=True)
    parser.add_argument("--logdir")
    parser.add_argument("--heartbeat-period", type=float, default=1.0)
    parser.add_argument("--heartbeat-threshold", type=float, default=10.0)
    parser.add_argument("--prefetch", type=int, default=3)
    parser.add_argument("--worker-debug", action="store_true")
    parser.add_argument("--cpu-affinity", default=affinity.NONE)
    # The engine has no cloudpickle: this manager and its workers pickle without it too, whatever
    # this host has, so that both sides match.
    parser.add_argument("--pickle-only", action="store_true")
    parsed = parser.parse_args(argv)
    if parsed.workers < 1 or parsed.prefetch < 0:
        parser.error("--workers must be at least 1 and --prefetch at least 0")
    if parsed.heartbeat_period <= 0 or parsed.heartbeat_threshold <= 0:
        parser.error("heartbeat period and threshold must be positive")
    try:
        worker_cpus = affinity.plan(parsed.cpu_affinity, parsed.workers, sorted(os.sched_getaffinity(0)))
    except ValueError as exc:
        parser.error(f"--cpu-affinity: {exc}")
    options = Options()
    options.workers = parsed.workers
    options.block_id = parsed.block_id
    options.logdir = parsed.logdir
    options.heartbeat_period = parsed.heartbeat_period
    options.heartbeat_threshold = parsed.heartbeat_threshold
    options.prefetch = parsed.prefetch
    options.worker_debug = parsed.worker_debug
    options.cpu_affinity = parsed.cpu_affinity
    options.worker_cpus = worker_cpus
    if parsed.pickle_only:
        serialize.use_pickle_only()
    return options


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
        "writing",
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
        self.writing = False  # registered for POLLOUT

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


def _children_by_scan(pid: int) -> list[int]:
    found: list[int] = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                text = handle.read()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        if len(fields) > 1 and fields[1] == str(pid):
            found.append(int(name))
    return found


def kill_tree(pid: int) -> None:
    """SIGKILLs an unreaped child worker and the processes (groups) it started, e.g. a bash app.

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


def describe_status(status: int | None) -> tuple[int | None, int | None, str]:
    """(signal, exit code, words) of a wait status."""
    if status is None:
        return None, None, "ended"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return number, None, f"died (signal {number})"
    code = os.WEXITSTATUS(status)
    return None, code, f"exited (exit code {code})"


class Manager:
    """The manager's event loop over stdin, stdout, the worker pipes and a signal wake-up pipe."""

    def __init__(self, options: Options, fd_in: int, fd_out: int) -> None:
        self.options = options
        self.fd_in = fd_in
        self.fd_out = fd_out
        self.reader = P.FrameReader(fd_in)
        self.out = P.OutBuffer(fd_out)
        self.out_writing = False
        self.poller = select.poll()
        self.queue: deque[P.TaskRecord] = deque()
        self.fn_cache: dict[int, bytes] = {}
        self.slots: list[WorkerSlot | None] = [None] * options.workers
        self.readers: dict[int, WorkerSlot] = {}  # from_fd -> slot
        self.writers: dict[int, WorkerSlot] = {}  # to_fd -> slot
        self.to_spawn: list[int] = []
        self.results: list[P.Buffer] = []
        self.result_count = 0
        self.result_bytes = 0
        self.killed: set[int] = set()  # killed by the interchange while on a worker
        self.acked = False
        self.stats_due = False
        self.stopping = False
        self.exit_code = EXIT_OK
        self.grace = QUICK_GRACE
        self.startup_failures = 0
        self.host = os.uname().nodename
        now = time.monotonic()
        self.last_received = now
        self.next_heartbeat = now + options.heartbeat_period
        self.signalled: int | None = None
        self.child_event = False
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.env = self._worker_env()
        self.pool_id = os.urandom(6).hex()  # PARSL_WORKER_POOL_ID: this manager's workers
        self.worker_logs: dict[int, int] = {}

    # -- set-up ---------------------------------------------------------------------------------

    def hello(self) -> bytes:
        """The HELLO body."""
        info = {
            "protocol": P.PROTOCOL_VERSION,
            "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
            "python_full": sys.version.split()[0],
            "serializer": serialize.serializer_name(),
            "serializer_version": serialize.serializer_version(),
            "host": self.host,
            "pid": os.getpid(),
            "workers": self.options.workers,
            "block": self.options.block_id,
            "executable": sys.executable,
        }
        return json.dumps(info).encode("utf-8")

    def install_signals(self) -> None:
        """SIGTERM/SIGINT/SIGHUP stop the manager; SIGCHLD wakes it to reap workers."""
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)

        def on_stop(number: int, _frame: Any) -> None:
            self.signalled = number

        def on_child(_number: int, _frame: Any) -> None:
            self.child_event = True

        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(number, on_stop)
        signal.signal(signal.SIGCHLD, on_child)

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
        argv = [sys.executable, "-m", "sprig.worker", "--index", str(index), "--manager-pid", str(os.getpid())]
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
        self.poller.register(result_r, _IN)
        self.stats_due = True
        log.info("started worker %d (pid %d)", index, pid)

    # -- main loop --------------------------------------------------------------------------------

    def run(self) -> int:
        """Sends HELLO, starts the workers and serves until told to stop; returns the exit status."""
        self.out.append(P.frame(P.HELLO, self.hello()))
        self.flush_out()
        self.install_signals()
        for index in range(self.options.workers):
            self.spawn(index)
        self.poller.register(self.fd_in, _IN)
        self.poller.register(self.wake_r, _IN)
        while not self.stopping:
            events = self.poller.poll(self._timeout_ms())
            for fd, mask in events:
                if fd == self.fd_in:
                    self.on_input()
                elif fd == self.wake_r:
                    self._drain_wake()
                elif fd == self.fd_out:
                    self.flush_out()
                elif fd in self.readers:
                    self.on_worker_output(self.readers[fd])
                elif fd in self.writers:
                    self.flush_worker(self.writers[fd])
                if self.stopping:
                    break
            self.maintain(time.monotonic())
        self.stop_workers()
        return self.exit_code

    def _timeout_ms(self) -> int:
        now = time.monotonic()
        until = min(self.next_heartbeat, self.last_received + self.options.heartbeat_threshold) - now
        return max(0, int(until * 1000) + 1)

    def maintain(self, now: float) -> None:
        """Everything after a round of events: signals, reaping, respawns, dispatch, output."""
        if self.signalled is not None:
            number = self.signalled
            self.stop(f"received signal {number}", 128 + number, QUICK_GRACE)
            return
        if self.child_event:
            self.child_event = False
            self.reap()
        if self.stopping:
            return
        while self.to_spawn:
            self.spawn(self.to_spawn.pop(0))
        self.dispatch()
        self.send_results()
        if now >= self.next_heartbeat:
            self.reap()
            self.out.append(P.frame(P.HEARTBEAT))
            self.stats_due = True
            self.next_heartbeat = now + self.options.heartbeat_period
        if self.stats_due and self.acked:
            self.send_stats()
        if now - self.last_received > self.options.heartbeat_threshold:
            self.stop(
                f"nothing from the interchange for {self.options.heartbeat_threshold:g} s", EXIT_HEARTBEAT, QUICK_GRACE
            )
        self.flush_out()

    def stop(self, reason: str, code: int, grace: float) -> None:
        """Ends the loop; the workers are then stopped within ``grace`` seconds."""
        if self.stopping:
            return
        log.info("stopping: %s", reason)
        self.stopping = True
        self.exit_code = code
        self.grace = grace

    def _drain_wake(self) -> None:
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass

    # -- interchange link -------------------------------------------------------------------------

    def on_input(self) -> None:
        """Reads frames from the interchange."""
        frames = self.reader.read()
        if frames is None:
            self.stop("the interchange closed its end (end of input)", EXIT_OK, QUICK_GRACE)
            return
        self.last_received = time.monotonic()
        for frame_type, body in frames:
            self.on_frame(frame_type, body)
            if self.stopping:
                return

    def on_frame(self, frame_type: int, body: memoryview) -> None:
        """Handles one frame from the interchange."""
        if frame_type == P.TASKS:
            self.on_tasks(body)
        elif frame_type == P.HEARTBEAT:
            pass
        elif frame_type == P.KILL_TASK:
            if len(body) != 8:
                raise P.ProtocolError(f"KILL_TASK body of {len(body)} bytes, not 8")
            (task_id,) = P.U64.unpack_from(body, 0)
            self.kill_task(task_id)
        elif frame_type == P.HELLO_ACK:
            self.on_ack(body)
        elif frame_type == P.SHUTDOWN:
            self.stop("SHUTDOWN received", EXIT_OK, SHUTDOWN_GRACE)
        else:
            log.warning("ignoring frame of unknown type %d (%d bytes)", frame_type, len(body))

    def on_ack(self, body: memoryview) -> None:
        try:
            answer = json.loads(bytes(body).decode("utf-8"))
        except ValueError as exc:
            raise P.ProtocolError(f"HELLO_ACK is not JSON: {exc}") from None
        if isinstance(answer, dict) and answer.get("ok") is True:
            log.info("interchange accepted this manager")
            self.acked = True
            self.stats_due = True
            return
        error = answer.get("error", "no reason given") if isinstance(answer, dict) else repr(answer)
        log.error("interchange refused this manager: %s", error)
        self.stop("HELLO_ACK refused", EXIT_REFUSED, QUICK_GRACE)

    def on_tasks(self, body: memoryview) -> None:
        for task in P.parse_tasks(body):
            key = task.fn_key
            if len(task.fn):
                if key not in self.fn_cache:
                    self.fn_cache[key] = bytes(task.fn)
            elif task.kind != P.KIND_BASH and key not in self.fn_cache:
                self.fail_now(task.task_id, f"task {task.task_id}: function key {key} was never sent to this manager")
                continue
            self.queue.append(task)
        if self.options.worker_debug:
            log.debug("queued tasks; %d waiting", len(self.queue))

    def fail_now(self, task_id: int, message: str) -> None:
        info = {"kind": "serialization", "type": "KeyError", "message": message, "traceback": ""}
        self.add_result(task_id, P.STATUS_FAILED, json.dumps(info).encode("utf-8"))

    def add_result(self, task_id: int, status: int, data: bytes) -> None:
        pieces = P.result_pieces(task_id, status, data)
        self.results.extend(pieces)
        self.result_count += 1
        self.result_bytes += P.RESULT_HEAD.size + len(data)

    def send_results(self) -> None:
        """Sends the results collected so far in one RESULTS frame (only after HELLO_ACK)."""
        if not self.result_count or not self.acked:
            return
        self.out.append(P.frame_header(P.RESULTS, 4 + self.result_bytes))
        self.out.append(P.U32.pack(self.result_count))
        self.out.extend(self.results)
        self.results = []
        self.result_count = 0
        self.result_bytes = 0

    def send_stats(self) -> None:
        self.stats_due = False
        live = [slot for slot in self.slots if slot is not None and slot.status is None]
        pids = [slot.pid for slot in live]
        stats = {
            "workers": sum(1 for slot in live if slot.accepting),
            "queued": len(self.queue),
            "running": sum(len(slot.inflight) for slot in live),
            "worker_pids": pids,
            "block": self.options.block_id,
            "kills_pending": len(self.killed),
        }
        self.out.append(P.frame(P.STATS, json.dumps(stats).encode("utf-8")))

    def flush_out(self) -> None:
        """Writes what stdout takes now; watches for writability when something is left."""
        try:
            done = self.out.flush()
        except OSError as exc:
            self.out.clear()
            self.stop(f"cannot write to the interchange: {exc}", EXIT_OK, QUICK_GRACE)
            return
        if done == self.out_writing:
            if done:
                self.poller.unregister(self.fd_out)
            else:
                self.poller.register(self.fd_out, _OUT)
            self.out_writing = not done

    # -- tasks and workers -----------------------------------------------------------------------

    def dispatch(self) -> None:
        """Moves queued tasks to the least loaded workers with room, one TASKS frame per worker."""
        if not self.queue:
            return
        # --prefetch counts the tasks a worker holds beside the one it runs (the engine's meaning).
        prefetch = self.options.prefetch + 1
        open_slots = [slot for slot in self.slots if slot is not None and slot.accepting and len(slot.inflight) < prefetch]
        batches: dict[WorkerSlot, list[P.TaskRecord]] = {}
        while self.queue and open_slots:
            slot = min(open_slots, key=lambda s: len(s.inflight))
            task = self.queue.popleft()
            slot.inflight.append(task)
            batches.setdefault(slot, []).append(task)
            if len(slot.inflight) >= prefetch:
                open_slots.remove(slot)
        for slot, tasks in batches.items():
            self.send_tasks(slot, tasks)

    def send_tasks(self, slot: WorkerSlot, tasks: list[P.TaskRecord]) -> None:
        pieces: list[P.Buffer] = [b"", P.U32.pack(len(tasks))]
        total = 4
        for task in tasks:
            fn: bytes = b""
            if task.kind != P.KIND_BASH and task.fn_key not in slot.known_fns:
                fn = self.fn_cache.get(task.fn_key, b"")
                slot.known_fns.add(task.fn_key)
            head = P.TASK_HEAD.pack(task.task_id, task.kind, task.fn_key, len(fn))
            pieces.append(head)
            if fn:
                pieces.append(fn)
            pieces.append(task.rest)
            total += len(head) + len(fn) + len(task.rest)
        pieces[0] = P.frame_header(P.TASKS, total)
        slot.out.extend(pieces)
        if self.options.worker_debug:
            log.debug("sent %d tasks to worker %d", len(tasks), slot.index)
        self.flush_worker(slot)

    def flush_worker(self, slot: WorkerSlot) -> None:
        if slot.to_fd < 0:
            return
        try:
            done = slot.out.flush()
        except OSError as exc:
            log.warning("worker %d (pid %d) stopped reading: %s", slot.index, slot.pid, exc)
            slot.out.clear()
            done = True
        if done == slot.writing:
            if done:
                self.poller.unregister(slot.to_fd)
            else:
                self.poller.register(slot.to_fd, _OUT)
            slot.writing = not done

    def on_worker_output(self, slot: WorkerSlot) -> None:
        """Reads result frames of a worker; handles its end of file."""
        frames = self._read_worker(slot)
        if frames is None:
            self._try_reap(slot)
            return
        self._take_frames(slot, frames)

    def _take_frames(self, slot: WorkerSlot, frames: list[tuple[int, memoryview]]) -> None:
        """Handles the RESULTS frames read from a worker (the first one says it is ready)."""
        for frame_type, body in frames:
            if frame_type != P.RESULTS:
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

    def on_result(self, slot: WorkerSlot, result: P.ResultRecord) -> None:
        """One entry from a worker: STARTED, SKIPPED, or a result to forward."""
        task_id = result.task_id
        if result.status == P.STATUS_STARTED:
            slot.running = task_id
            if task_id in self.killed:
                log.info("worker %d started task %d, which was killed; killing the worker", slot.index, task_id)
                self.kill_worker(slot)
            else:
                # Forwarded: the interchange counts walltimes, and tells running from queued, from here.
                self.results.append(result.raw)
                self.result_count += 1
                self.result_bytes += len(result.raw)
            return
        if slot.running == task_id:
            slot.running = None
        inflight = slot.inflight
        if inflight and inflight[0].task_id == task_id:
            inflight.popleft()
        else:
            for position, task in enumerate(inflight):
                if task.task_id == task_id:
                    del inflight[position]
                    break
            else:
                log.warning("worker %d reported task %d, which it was not given", slot.index, task_id)
                return
        if task_id in self.killed:
            self.killed.discard(task_id)
            return
        if result.status == P.STATUS_SKIPPED:
            return
        self.results.append(result.raw)
        self.result_count += 1
        self.result_bytes += len(result.raw)

    def kill_task(self, task_id: int) -> None:
        """KILL_TASK: drop it from the queue, or kill the worker that runs it, or have its worker
        skip it when it is only prefetched there."""
        for position, task in enumerate(self.queue):
            if task.task_id == task_id:
                del self.queue[position]
                log.info("killed task %d while queued", task_id)
                self.stats_due = True
                return
        for slot in self.slots:
            if slot is None or slot.status is not None:
                continue
            for task in slot.inflight:
                if task.task_id != task_id:
                    continue
                self.killed.add(task_id)
                self.stats_due = True
                if slot.running == task_id:
                    log.info("killing worker %d (pid %d), which runs killed task %d", slot.index, slot.pid, task_id)
                    self.kill_worker(slot)
                else:
                    log.info("worker %d will skip killed task %d", slot.index, task_id)
                    slot.out.append(P.frame(P.KILL_TASK, P.U64.pack(task_id)))
                    self.flush_worker(slot)
                return
        log.debug("KILL_TASK for task %d, which is not here (finished or unknown)", task_id)

    def kill_worker(self, slot: WorkerSlot) -> None:
        if slot.killing or slot.status is not None:
            return
        slot.killing = True
        kill_tree(slot.pid)

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

    def on_death(self, slot: WorkerSlot) -> None:
        """A worker ended: report the task it ran as lost, requeue the others, replace it."""
        self._close_reader(slot)
        self._close_writer(slot)
        if self.slots[slot.index] is slot:
            self.slots[slot.index] = None
        self.stats_due = True
        if self.stopping:
            return
        number, code, words = describe_status(slot.status)
        log.log(
            logging.INFO if slot.killing else logging.WARNING,
            "worker %d (pid %d) %s with %d tasks in flight",
            slot.index,
            slot.pid,
            words,
            len(slot.inflight),
        )
        inflight = slot.inflight
        running = next((task for task in inflight if task.task_id == slot.running), None)
        if running is not None:
            inflight.remove(running)
            if running.task_id in self.killed:
                self.killed.discard(running.task_id)
            elif slot.killing:
                # Killed for another task that had just finished: this one had only begun.
                log.info("task %d was interrupted by the kill of worker %d; re-queued", running.task_id, slot.index)
                inflight.appendleft(running)
            else:
                message = (
                    f"worker {slot.index} (pid {slot.pid}) on host {self.host} {words} while running task {running.task_id}"
                )
                info = {"message": message, "worker": slot.index, "pid": slot.pid, "signal": number, "exit_code": code}
                self.add_result(running.task_id, P.STATUS_WORKER_LOST, json.dumps(info).encode("utf-8"))
        for task in reversed(inflight):
            if task.task_id in self.killed:
                self.killed.discard(task.task_id)
            else:
                self.queue.appendleft(task)
        inflight.clear()
        if not slot.ready and not slot.killing:
            self.startup_failures += 1
            if self.startup_failures >= MAX_STARTUP_FAILURES:
                log.error("%d workers in a row died before they were ready; giving up", self.startup_failures)
                self.stop("workers cannot start", EXIT_WORKERS, QUICK_GRACE)
                return
        self.to_spawn.append(slot.index)

    # -- shutdown -------------------------------------------------------------------------------------

    def stop_workers(self) -> None:
        """Closes every worker's input, waits up to the grace period, then kills what is left."""
        live = [slot for slot in self.slots if slot is not None]
        for slot in live:
            self._close_writer(slot)
        try:
            self.poller.unregister(self.fd_in)
        except (KeyError, ValueError):
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
        for slot in pending:
            if slot.status is None:
                log.info("killing worker %d (pid %d), still running after %.2g s", slot.index, slot.pid, self.grace)
                kill_tree(slot.pid)
                while True:
                    try:
                        _pid, slot.status = os.waitpid(slot.pid, 0)
                        break
                    except InterruptedError:
                        continue
                    except ChildProcessError:
                        slot.status = 0
                        break
            self._close_reader(slot)
        for fd in self.worker_logs.values():
            os.close(fd)
        self.worker_logs.clear()
        try:
            self.out.flush()
        except OSError:
            pass


def _setup_logging(options: Options) -> None:
    level = logging.DEBUG if options.worker_debug else logging.INFO
    fmt = f"%(asctime)s manager[%(process)d] block {options.block_id} %(levelname)s %(message)s"
    if options.logdir:
        os.makedirs(options.logdir, exist_ok=True)
        logging.basicConfig(level=level, filename=os.path.join(options.logdir, "manager.log"), format=fmt)
    else:
        logging.basicConfig(level=level, stream=sys.stderr, format=fmt)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m sprig.manager``."""
    fd_in, fd_out = worker_module.isolate_stdio()
    options = parse_args(sys.argv[1:] if argv is None else argv)
    if os.getpgrp() != os.getpid():
        try:
            os.setsid()
        except OSError:
            pass
    _setup_logging(options)
    was_blocking = os.get_blocking(fd_out)
    os.set_blocking(fd_out, False)
    manager = Manager(options, fd_in, fd_out)
    try:
        return manager.run()
    except P.ProtocolError as exc:
        log.error("protocol error on the interchange link: %s", exc)
        manager.stopping = True
        manager.grace = QUICK_GRACE
        manager.stop_workers()
        return EXIT_ERROR
    except Exception:
        log.exception("manager failed")
        manager.stopping = True
        manager.grace = QUICK_GRACE
        manager.stop_workers()
        return EXIT_ERROR
    finally:
        try:
            os.set_blocking(fd_out, was_blocking)
        except OSError:
            pass
        logging.shutdown()


if __name__ == "__main__":
    sys.exit(main())
