"""A worker on its own, driven the way its manager drives it (manager <-> worker link)."""

from __future__ import annotations

import json
import os
import select
import struct
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

import sample_apps
from client import PY, Deadline, decode_results, encode_task, process_alive, manager_env
from sprig import serialize

SKIPPED, STARTED, RECALLED = 3, 4, 5


class RawWorker:
    """A worker process started by the test, which plays its manager."""

    def __init__(self, log_path: Path, args: tuple[str, ...] = ()) -> None:
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [PY, "-m", "sprig.worker", "--index", "0", "--manager-pid", str(os.getpid()), *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=manager_env(),
            )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.rfd = self.proc.stdout.fileno()
        self.buffer = bytearray()
        self.fns: dict[int, bytes] = {}

    def send(self, kind: int, body: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(struct.pack("<IB", len(body), kind) + body)
        self.proc.stdin.flush()

    def frame(self, seconds: float = 10) -> tuple[int, bytes]:
        deadline = Deadline(seconds)
        while True:
            if len(self.buffer) >= 5:
                length, kind = struct.unpack_from("<IB", self.buffer, 0)
                if len(self.buffer) >= 5 + length:
                    body = bytes(self.buffer[5 : 5 + length])
                    del self.buffer[: 5 + length]
                    return kind, body
            ready, _, _ = select.select([self.rfd], [], [], deadline.left())
            if not ready:
                log = self.log_path.read_text(errors="replace")
                raise AssertionError(f"no frame from the worker in {seconds} s\n{log}")
            data = os.read(self.rfd, 1 << 20)
            if not data:
                raise AssertionError("worker closed its output")
            self.buffer += data

    def results(self, seconds: float = 10) -> list[tuple[int, int, bytes]]:
        kind, body = self.frame(seconds)
        while kind == 5:  # HEARTBEAT, sent every second
            kind, body = self.frame(seconds)
        assert kind == 4, f"expected RESULTS, got frame type {kind}"
        return decode_results(body)

    def task(self, task_id: int, fn, *args) -> bytes:
        key = 1 if fn is sample_apps.add else 2 if fn is sample_apps.report_pid_and_wait else 3
        fn_bytes = b"" if key in self.fns else serialize.dumps_function(fn)
        self.fns[key] = fn_bytes
        return encode_task(task_id, 0, key, fn_bytes, None, serialize.dumps_call(args, {}))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[RawWorker]:
    raw = RawWorker(tmp_path / "worker.log")
    yield raw
    raw.stop()


def read_pid(fifo_fd: int, seconds: float = 10) -> int:
    ready, _, _ = select.select([fifo_fd], [], [], seconds)
    assert ready, "the app never reported its pid"
    return int(os.read(fifo_fd, 100).decode().split()[0])


def test_ready_then_one_result_per_task(worker: RawWorker) -> None:
    assert worker.results() == []  # the ready frame
    body = struct.pack("<I", 2) + worker.task(1, sample_apps.add, 1, 2) + worker.task(2, sample_apps.add, 3, 4)
    worker.send(3, body)
    # Each frame: the result of the task that finished, then STARTED for the one that runs next.
    frames = [worker.results() for _ in range(3)]
    assert [[(t, s) for t, s, _ in frame] for frame in frames] == [[(1, STARTED)], [(1, 0), (2, STARTED)], [(2, 0)]]
    assert serialize.loads(frames[1][0][2]) == 3 and serialize.loads(frames[2][0][2]) == 7


class BlockedWorker:
    """A worker running task 1 (which waits until :meth:`release`) with tasks 2 and 3 queued."""

    def __init__(self, worker: RawWorker, tmp_path: Path) -> None:
        self.fifo, self.gate = str(tmp_path / "pid.fifo"), str(tmp_path / "gate.fifo")
        os.mkfifo(self.fifo)
        os.mkfifo(self.gate)
        self.fifo_fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        assert worker.results() == []
        body = struct.pack("<I", 3)
        body += worker.task(1, sample_apps.report_pid_and_wait, self.fifo, self.gate)
        body += worker.task(2, sample_apps.add, 1, 1) + worker.task(3, sample_apps.add, 2, 2)
        worker.send(3, body)
        assert [(t, s) for t, s, _ in worker.results()] == [(1, STARTED)]
        assert read_pid(self.fifo_fd) == worker.proc.pid  # task 1 runs, and goes on running

    def release(self) -> None:
        gate_fd = os.open(self.gate, os.O_WRONLY | os.O_NONBLOCK)
        os.write(gate_fd, b"go\n")
        os.close(gate_fd)

    def close(self) -> None:
        os.close(self.fifo_fd)


def test_killed_prefetched_task_is_skipped(worker: RawWorker, tmp_path: Path) -> None:
    blocked = BlockedWorker(worker, tmp_path)
    try:
        worker.send(7, struct.pack("<Q", 2))  # KILL_TASK 2, while 1 runs
        blocked.release()
        frame = worker.results()
        assert [(t, s) for t, s, _ in frame] == [(1, 0), (2, SKIPPED), (3, STARTED)]
        assert [(t, s) for t, s, _ in worker.results()] == [(3, 0)]
    finally:
        blocked.close()


def test_recall_gives_back_unstarted_tasks_while_one_runs(worker: RawWorker, tmp_path: Path) -> None:
    blocked = BlockedWorker(worker, tmp_path)
    try:
        worker.send(9, b"")  # RECALL
        assert [(t, s) for t, s, _ in worker.results()] == [(2, RECALLED), (3, RECALLED)]
        blocked.release()
        assert [(t, s) for t, s, _ in worker.results()] == [(1, 0)]
    finally:
        blocked.close()


def test_worker_exits_on_end_of_input(worker: RawWorker) -> None:
    assert worker.results() == []
    assert worker.proc.stdin is not None
    worker.proc.stdin.close()
    assert worker.proc.wait(timeout=10) == 0


def test_worker_exits_on_shutdown(worker: RawWorker) -> None:
    assert worker.results() == []
    worker.send(6, b"")
    assert worker.proc.wait(timeout=10) == 0


def test_print_cannot_reach_the_protocol(worker: RawWorker) -> None:
    assert worker.results() == []
    fn = serialize.dumps_function(sample_apps.shout)
    worker.send(3, struct.pack("<I", 1) + encode_task(5, 0, 9, fn, None, serialize.dumps_call(("hello there",), {})))
    assert worker.results()[0][:2] == (5, STARTED)
    ((task_id, status, data),) = worker.results()
    assert (task_id, status, serialize.loads(data)) == (5, 0, 11)
    assert worker.proc.stdin is not None
    worker.proc.stdin.close()
    assert worker.proc.wait(timeout=10) == 0
    log = worker.log_path.read_text()
    assert "hello there\n" in log and "to stderr: hello there" in log


def test_unknown_function_key_fails_the_task(worker: RawWorker) -> None:
    assert worker.results() == []
    worker.send(3, struct.pack("<I", 1) + encode_task(8, 0, 424242, b"", None, serialize.dumps_call((), {})))
    assert worker.results()[0][:2] == (8, STARTED)
    ((task_id, status, data),) = worker.results()
    info = json.loads(data)
    assert (task_id, status, info["kind"]) == (8, 1, "serialization")
    assert "424242" in info["message"]


def test_worker_dies_with_a_vanished_manager_pid(tmp_path: Path) -> None:
    # A worker told that its manager is some other process exits at once (parent check).
    proc = subprocess.Popen(
        [PY, "-m", "sprig.worker", "--manager-pid", "1"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=manager_env(),
    )
    try:
        assert proc.wait(timeout=10) == 1
        assert not process_alive(proc.pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


def test_killed_task_at_the_head_of_an_idle_worker_is_skipped(worker: RawWorker) -> None:
    assert worker.results() == []
    tasks = struct.pack("<I", 2) + worker.task(1, sample_apps.add, 1, 1) + worker.task(2, sample_apps.add, 2, 2)
    kill = struct.pack("<Q", 1)
    # Both frames in one write (well under PIPE_BUF): the idle worker reads them together.
    assert worker.proc.stdin is not None
    worker.proc.stdin.write(struct.pack("<IB", len(tasks), 3) + tasks + struct.pack("<IB", 8, 7) + kill)
    worker.proc.stdin.flush()
    assert [(t, s) for t, s, _ in worker.results()] == [(1, SKIPPED), (2, STARTED)]
    ((task_id, status, data),) = worker.results()
    assert (task_id, status, serialize.loads(data)) == (2, 0, 4)
