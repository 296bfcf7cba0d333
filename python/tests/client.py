"""A small interchange for tests: starts ``python -m sprig.manager`` and speaks the protocol.

Frames are encoded here with ``struct`` directly (not with sprig.protocol) so that the tests check
the byte layout documented in PROTOCOL.md. Every blocking step has a deadline: a broken manager
makes a test fail, never hang.
"""

from __future__ import annotations

import json
import os
import select
import signal
import struct
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from sprig import resources, serialize

PY = "/usr/bin/python3.11"
TESTS_DIR = Path(__file__).resolve().parent
PYTHON_DIR = TESTS_DIR.parent
HIDE_CLOUDPICKLE_DIR = TESTS_DIR / "hide_cloudpickle"

HELLO, HELLO_ACK, TASKS, RESULTS, HEARTBEAT, SHUTDOWN, KILL_TASK, STATS = range(1, 9)
OK, FAILED, WORKER_LOST, STARTED, RESOURCE = 0, 1, 2, 4, 6
PYTHON, BASH_FROM_PYTHON, BASH = 0, 1, 2

HEADER = struct.Struct("<IB")


def hiding_cloudpickle() -> bool:
    """Whether the suite runs as if cloudpickle were not installed (SPRIG_TEST_HIDE_CLOUDPICKLE=1)."""
    return os.environ.get("SPRIG_TEST_HIDE_CLOUDPICKLE") == "1"


def manager_env(extra_paths: Sequence[str] = (), python_dir: Optional[Path] = None) -> dict[str, str]:
    """Environment for manager processes: sprig (from ``python_dir``) and the test apps importable."""
    env = dict(os.environ)
    paths = [*extra_paths, str(python_dir or PYTHON_DIR), str(TESTS_DIR)]
    if hiding_cloudpickle():
        # After extra_paths: a sitecustomize there wins (and must hide cloudpickle itself).
        paths.insert(len(tuple(extra_paths)), str(HIDE_CLOUDPICKLE_DIR))
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.pop("PYTHONHOME", None)
    return env


class Deadline:
    """A point in time; ``left()`` seconds remain (never negative)."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def passed(self) -> bool:
        return time.monotonic() >= self.end


def start_time(pid: int) -> Optional[int]:
    """Start time of a process (field 22 of /proc/pid/stat), or None when it does not exist."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return None
    return int(text[text.rfind(")") + 2 :].split()[19])


def process_alive(pid: int, started: Optional[int] = None) -> bool:
    """Whether this process (the one that started at ``started``) still lives (zombies are dead)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return False
    fields = text[text.rfind(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return False
    return started is None or int(fields[19]) == started


def wait_gone(pids: Mapping[int, Optional[int]], seconds: float) -> list[int]:
    """Polls /proc until none of the processes live or time is up; returns the ones still alive."""
    deadline = Deadline(seconds)
    while True:
        alive = [pid for pid, started in pids.items() if process_alive(pid, started)]
        if not alive or deadline.passed():
            return alive
        select.select([], [], [], 0.01)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is ``pgid``."""
    members = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                text = handle.read()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        if fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            members.append(int(name))
    return members


def wait_group_gone(pgid: int, seconds: float) -> list[int]:
    """Polls until no process of the group lives or time is up; returns the members left."""
    deadline = Deadline(seconds)
    while True:
        members = group_members(pgid)
        if not members or deadline.passed():
            return members
        select.select([], [], [], 0.01)


def encode_task(task_id: int, kind: int, fn_key: int, fn: bytes, options: Optional[dict], payload: bytes) -> bytes:
    """One entry of a TASKS body, byte by byte as in PROTOCOL.md."""
    opt = json.dumps(options).encode() if options is not None else b""
    return (
        struct.pack("<QBQI", task_id, kind, fn_key, len(fn))
        + fn
        + struct.pack("<I", len(opt))
        + opt
        + struct.pack("<I", len(payload))
        + payload
    )


def decode_results(body: bytes) -> list[tuple[int, int, bytes]]:
    (count,) = struct.unpack_from("<I", body, 0)
    offset = 4
    out = []
    for _ in range(count):
        task_id, status, length = struct.unpack_from("<QBI", body, offset)
        offset += 13
        out.append((task_id, status, body[offset : offset + length]))
        offset += length
    assert offset == len(body), "RESULTS body has trailing bytes"
    return out


class Result:
    """A task result as the interchange sees it."""

    def __init__(self, task_id: int, status: int, data: bytes) -> None:
        self.task_id = task_id
        self.status = status
        self.data = data

    @property
    def value(self) -> Any:
        assert self.status == OK, f"task {self.task_id} did not succeed: {self.status} {self.data[:2000]!r}"
        return serialize.loads(self.data)

    @property
    def info(self) -> dict:
        assert self.status != OK, f"task {self.task_id} succeeded"
        return json.loads(self.data.decode("utf-8"))

    def __repr__(self) -> str:
        return f"Result({self.task_id}, status={self.status}, {self.data[:200]!r})"


class ManagerProcess:
    """One manager started for a test, and the interchange side of its link."""

    def __init__(
        self,
        workers: int = 2,
        args: Iterable[str] = (),
        stderr_path: Optional[Path] = None,
        heartbeats: bool = True,
        extra_paths: Sequence[str] = (),
        python_dir: Optional[Path] = None,
        pass_fds: Sequence[int] = (),
    ) -> None:
        command = [PY, "-m", "sprig.manager", "--workers", str(workers), "--block-id", "test-block", *args]
        given = list(args)
        # Segments for the tasks' large arguments when the manager's workers use them (a local block).
        self.shared_memory: Optional[str] = given[given.index("--shared-memory") + 1] if "--shared-memory" in given else None
        self.stderr_path = stderr_path
        err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND) if stderr_path else subprocess.DEVNULL
        self.started_at = time.monotonic()
        try:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=manager_env(extra_paths, python_dir),
                cwd=str(python_dir or PYTHON_DIR),
                pass_fds=tuple(pass_fds),
            )
        finally:
            if stderr_path:
                os.close(err)
        self.pid = self.proc.pid
        self.pid_started = start_time(self.pid)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.rfd = self.proc.stdout.fileno()
        wfd = self.proc.stdin.fileno()
        os.set_blocking(self.rfd, False)
        os.set_blocking(wfd, False)
        self.wfd: Optional[int] = wfd
        self.buffer = bytearray()
        self.eof = False
        self.frames: list[tuple[int, bytes]] = []  # frames not consumed by the helpers below
        self.results: dict[int, Result] = {}
        self.result_order: list[int] = []
        self.started: list[int] = []  # STARTED entries: tasks their workers began, in order
        self.started_pids: dict[int, int] = {}  # task id -> the pid its STARTED entry named
        self.samples: dict[int, list[dict]] = {}  # RESOURCE entries by task id, in order
        self.stats: list[dict] = []
        self.worker_pids: dict[int, Optional[int]] = {}  # every worker pid seen -> start time
        self.heartbeats_received = 0
        self.frames_seen = 0  # RESULTS frames read (benchmarks/hops.py counts them per task)
        self.reads_seen = 0  # reads that returned output
        self.heartbeats = heartbeats
        self.last_sent = time.monotonic()
        self.hello: Optional[dict] = None
        self.fn_keys: dict[int, int] = {}  # id(fn) -> key
        self.fn_refs: list[Any] = []
        self.next_task = 1

    # -- raw I/O ----------------------------------------------------------------------------------

    def _parse(self) -> None:
        while len(self.buffer) >= 5:
            length, kind = HEADER.unpack_from(self.buffer, 0)
            if len(self.buffer) < 5 + length:
                return
            body = bytes(self.buffer[5 : 5 + length])
            del self.buffer[: 5 + length]
            self._on_frame(kind, body)

    def _on_frame(self, kind: int, body: bytes) -> None:
        if kind == RESULTS:
            self.frames_seen += 1
            for task_id, status, data in decode_results(body):
                if status == STARTED:
                    assert task_id not in self.results, f"task {task_id} started after its result"
                    self.started.append(task_id)
                    if len(data) == 4:
                        (self.started_pids[task_id],) = struct.unpack("<I", data)
                    continue
                if status == RESOURCE:
                    assert task_id not in self.results, f"a resource sample of task {task_id} after its result"
                    self.samples.setdefault(task_id, []).append(resources.decode(data))
                    continue
                assert task_id not in self.results, f"second result for task {task_id}"
                self.results[task_id] = Result(task_id, status, data)
                self.result_order.append(task_id)
        elif kind == STATS:
            stats = json.loads(body)
            self.stats.append(stats)
            for pid in stats["worker_pids"]:
                if pid not in self.worker_pids:
                    self.worker_pids[pid] = start_time(pid)
        elif kind == HEARTBEAT:
            assert body == b""
            self.heartbeats_received += 1
        else:
            self.frames.append((kind, body))

    def pump(self, deadline: Deadline) -> bool:
        """Waits (until the deadline) for output and reads it; False once at end of file."""
        if self.eof:
            return False
        self._keep_alive()
        readable, _, _ = select.select([self.rfd], [], [], min(deadline.left(), 0.2))
        if readable:
            try:
                data = os.read(self.rfd, 1 << 16)
            except BlockingIOError:
                return True
            if not data:
                self.eof = True
                return False
            self.reads_seen += 1
            self.buffer += data
            self._parse()
        return True

    def _keep_alive(self) -> None:
        if self.heartbeats and self.wfd is not None and time.monotonic() - self.last_sent > 0.5:
            self.send(HEARTBEAT, b"", Deadline(5))

    def send(self, kind: int, body: bytes, deadline: Optional[Deadline] = None) -> None:
        """Writes one frame, reading the manager's output meanwhile (so neither side can block)."""
        self.last_sent = time.monotonic()
        self.send_raw(HEADER.pack(len(body), kind) + body, deadline or Deadline(30), f"a frame of type {kind}")

    def send_raw(self, data: bytes, deadline: Optional[Deadline] = None, what: str = "") -> None:
        """Writes bytes as they are (a frame, a bundle), reading the manager's output meanwhile."""
        deadline = deadline or Deadline(10)
        assert self.wfd is not None, "stdin already closed"
        view = memoryview(data)
        while view:
            readable, writable, _ = select.select([] if self.eof else [self.rfd], [self.wfd], [], deadline.left())
            if readable:
                chunk = os.read(self.rfd, 1 << 16)
                if chunk:
                    self.reads_seen += 1
                    self.buffer += chunk
                    self._parse()
                else:
                    self.eof = True
            if writable:
                try:
                    view = view[os.write(self.wfd, view) :]
                except BlockingIOError:
                    continue
            if not readable and not writable and deadline.passed():
                raise AssertionError(f"could not write {what or f'{len(data)} bytes'} in time{self.diagnostics()}")

    def next_frame(self, kind: int, seconds: float = 10) -> bytes:
        """The next frame of this type (RESULTS/STATS/HEARTBEAT are collected separately)."""
        deadline = Deadline(seconds)
        while True:
            for position, (frame_kind, body) in enumerate(self.frames):
                if frame_kind == kind:
                    del self.frames[position]
                    return body
            if deadline.passed() or not self.pump(deadline):
                raise AssertionError(f"no frame of type {kind} within {seconds} s{self.diagnostics()}")

    # -- protocol ---------------------------------------------------------------------------------

    def handshake(self, ok: bool = True, error: str = "refused by test") -> dict:
        """Reads HELLO and answers HELLO_ACK."""
        hello = json.loads(self.next_frame(HELLO))
        self.hello = hello
        answer: dict[str, object] = {"ok": True} if ok else {"ok": False, "error": error}
        self.send(HELLO_ACK, json.dumps(answer).encode())
        return hello

    def function_entry(self, fn: Callable) -> tuple[int, bytes]:
        """(fn_key, fn bytes to send): the bytes only the first time this function is sent."""
        key = self.fn_keys.get(id(fn))
        if key is not None:
            return key, b""
        key = 1000 + len(self.fn_keys)
        self.fn_keys[id(fn)] = key
        self.fn_refs.append(fn)
        return key, serialize.dumps_function(fn)

    def new_id(self) -> int:
        task_id = self.next_task
        self.next_task += 1
        return task_id

    def python_task(self, fn: Callable, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """(task id, encoded TASKS entry) of a python app call."""
        key, fn_bytes = self.function_entry(fn)
        task_id = self.new_id()
        return task_id, encode_task(task_id, PYTHON, key, fn_bytes, None, serialize.dumps_call(args, kwargs, self.shared_memory))

    def bash_task(
        self,
        command: str,
        stdout: Any = None,
        stderr: Any = None,
        outputs: Iterable[str] = (),
    ) -> tuple[int, bytes]:
        task_id = self.new_id()
        options = {"command": command, "stdout": stdout, "stderr": stderr, "outputs": list(outputs)}
        return task_id, encode_task(task_id, BASH, 0, b"", options, b"")

    def bash_python_task(self, fn: Callable, *args: Any, stdout: Any = None, stderr: Any = None, outputs: Iterable[str] = (), **kwargs: Any) -> tuple[int, bytes]:
        key, fn_bytes = self.function_entry(fn)
        task_id = self.new_id()
        options = {"stdout": stdout, "stderr": stderr, "outputs": list(outputs)}
        return task_id, encode_task(task_id, BASH_FROM_PYTHON, key, fn_bytes, options, serialize.dumps_call(args, kwargs))

    def submit(self, entries: list[tuple[int, bytes]]) -> list[int]:
        """Sends the tasks in one TASKS frame; returns their ids."""
        body = struct.pack("<I", len(entries)) + b"".join(entry for _, entry in entries)
        self.send(TASKS, body)
        return [task_id for task_id, _ in entries]

    def run(self, fn: Callable, *args: Any, seconds: float = 20, **kwargs: Any) -> Result:
        """Submits one python task and waits for its result."""
        (task_id,) = self.submit([self.python_task(fn, *args, **kwargs)])
        return self.wait_results([task_id], seconds)[task_id]

    def wait_results(self, task_ids: Iterable[int], seconds: float = 20) -> dict[int, Result]:
        wanted = list(task_ids)
        deadline = Deadline(seconds)
        while True:
            missing = [task_id for task_id in wanted if task_id not in self.results]
            if not missing:
                return {task_id: self.results[task_id] for task_id in wanted}
            if deadline.passed() or not self.pump(deadline):
                raise AssertionError(
                    f"{len(missing)} results missing after {seconds} s (e.g. {missing[:5]}){self.diagnostics()}"
                )

    def wait_stats(self, predicate: Callable[[dict], bool], seconds: float = 10) -> dict:
        """The first STATS frame (from now on) for which ``predicate`` holds."""
        seen = len(self.stats)
        deadline = Deadline(seconds)
        while True:
            for stats in self.stats[seen:]:
                if predicate(stats):
                    return stats
            seen = len(self.stats)
            if deadline.passed() or not self.pump(deadline):
                raise AssertionError(f"no matching STATS within {seconds} s; last {self.stats[-3:]}{self.diagnostics()}")

    def kill_task(self, task_id: int) -> None:
        self.send(KILL_TASK, struct.pack("<Q", task_id))

    def shutdown(self) -> None:
        self.send(SHUTDOWN, b"")

    def close_stdin(self) -> None:
        if self.wfd is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.wfd = None

    # -- process checks ---------------------------------------------------------------------------

    def wait_exit(self, seconds: float = 10) -> int:
        """Waits for the manager to exit (reading its output meanwhile); returns its status."""
        deadline = Deadline(seconds)
        while self.proc.poll() is None:
            if deadline.passed():
                raise AssertionError(f"manager still running after {seconds} s{self.diagnostics()}")
            if not self.pump(deadline):
                try:
                    self.proc.wait(timeout=max(0.01, deadline.left()))
                except subprocess.TimeoutExpired:
                    pass
        return self.proc.returncode

    def assert_all_gone(self, seconds: float = 5) -> None:
        """The manager and every worker it ever reported are gone (within the deadline)."""
        assert self.worker_pids, "no worker pids were ever reported"
        assert self.proc.poll() is not None or self.wait_exit(seconds) is not None
        alive = wait_gone(dict(self.worker_pids), seconds)
        assert not alive, f"workers still alive: {alive}{self.diagnostics()}"

    def stderr_text(self) -> str:
        if self.stderr_path and self.stderr_path.exists():
            return self.stderr_path.read_text(errors="replace")
        return ""

    def diagnostics(self) -> str:
        text = self.stderr_text()
        return f"\n--- manager stderr (last 4000 chars) ---\n{text[-4000:]}" if text else ""

    def cleanup(self) -> None:
        """Kills what is left of this manager and its workers (by PID, only processes of this test)."""
        for pid, started in self.worker_pids.items():
            if process_alive(pid, started):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


def finish_managers(started: list[ManagerProcess]) -> None:
    """Fixture teardown: shuts down managers still running, then proves that each manager and
    every worker pid it ever reported are gone."""
    try:
        for manager in started:
            if manager.proc.poll() is None and manager.wfd is not None and not manager.eof:
                manager.shutdown()
            manager.wait_exit(10)
            if manager.worker_pids:
                manager.assert_all_gone(5)
    finally:
        for manager in started:
            manager.cleanup()
