"""The two-hop path of a local block: a manager started with ``--worker-socket`` hands each ready
worker's pipes to the engine (here: the test) and keeps supervising it (PROTOCOL.md, "Two-hop
local blocks"). The test plays the engine: it drives the workers over the pipes it was handed,
with frames encoded here with ``struct``."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import time
import struct
from pathlib import Path
from typing import Callable

import sample_apps
from client import FAILED, OK, RESULTS, STARTED, TASKS, Deadline, ManagerProcess, decode_results, encode_task, process_alive
from sprig import process_tree, serialize

WORKER_READY, WORKER_ENDED, KILL_WORKER, WORKER_SILENT = 10, 11, 12, 13
HEADER = struct.Struct("<IB")


class Engine:
    """The engine's end of the control socket and of the workers it was handed."""

    def __init__(self) -> None:
        self.sock, self.child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.workers: dict[int, tuple[int, int, int]] = {}  # index -> (pid, to_fd, from_fd)
        self.buffers: dict[int, bytearray] = {}
        self.ended: list[dict] = []
        self.fn_sent: set[tuple[int, int]] = set()

    def receive(self, seconds: float = 10) -> tuple[int, dict]:
        """The next control frame; a WORKER_READY's pipes are taken into ``workers``."""
        ready, _, _ = select.select([self.sock], [], [], seconds)
        assert ready, f"no control frame within {seconds} s"
        data, fds, _flags, _addr = socket.recv_fds(self.sock, 65536, 4)
        length, kind = HEADER.unpack_from(data, 0)
        assert length == len(data) - HEADER.size
        body = json.loads(data[HEADER.size:])
        if kind == WORKER_READY:
            assert len(fds) == 2, f"WORKER_READY came with {len(fds)} descriptors"
            old = self.workers.get(body["worker"])
            if old is not None:
                self._close(old)
            self.workers[body["worker"]] = (body["pid"], fds[0], fds[1])
            self.buffers[body["worker"]] = bytearray()
        else:
            assert not fds
            if kind == WORKER_ENDED:
                self.ended.append(body)
        return kind, body

    def send(self, kind: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.sock.send(HEADER.pack(len(data), kind) + data)

    def run(self, index: int, task_id: int, fn: Callable, *args: object) -> list[tuple[int, int, bytes]]:
        """Writes one task to worker ``index``; returns its entries up to its result."""
        pid, to_fd, from_fd = self.workers[index]
        key = 1000
        fn_bytes = b"" if (pid, key) in self.fn_sent else serialize.dumps_function(fn)
        self.fn_sent.add((pid, key))
        entry = encode_task(task_id, 0, key, fn_bytes, None, serialize.dumps_call(args, {}))
        body = struct.pack("<I", 1) + entry
        os.set_blocking(to_fd, True)
        os.write(to_fd, HEADER.pack(len(body), TASKS) + body)
        entries: list[tuple[int, int, bytes]] = []
        deadline = Deadline(10)
        while not any(status in (OK, FAILED) for _, status, _ in entries):
            ready, _, _ = select.select([from_fd], [], [], deadline.left())
            assert ready, f"no result from worker {index} within 10 s: {entries}"
            self.buffers[index] += os.read(from_fd, 65536)
            buffer = self.buffers[index]
            while len(buffer) >= 5:
                length, kind = HEADER.unpack_from(buffer, 0)
                if len(buffer) < 5 + length:
                    break
                frame = bytes(buffer[5 : 5 + length])
                del buffer[: 5 + length]
                if kind == RESULTS:
                    entries += decode_results(frame)
        return entries

    def _close(self, worker: tuple[int, int, int]) -> None:
        for fd in worker[1:]:
            os.close(fd)

    def close(self) -> None:
        for worker in self.workers.values():
            self._close(worker)
        self.workers.clear()
        self.sock.close()


def start(start_manager: Callable[..., ManagerProcess], engine: Engine, workers: int = 2) -> ManagerProcess:
    fd = engine.child.fileno()
    manager = start_manager(workers=workers, args=("--worker-socket", str(fd)), pass_fds=(fd,))
    engine.child.close()
    return manager


def test_ready_workers_are_handed_over_and_run_tasks_over_their_own_pipes(start_manager, tmp_path: Path) -> None:
    engine = Engine()
    try:
        manager = start(start_manager, engine)
        assert manager.hello is not None and manager.hello["hands_off_workers"] is True
        for _ in range(2):
            kind, body = engine.receive()
            assert kind == WORKER_READY
        assert sorted(engine.workers) == [0, 1]
        assert {pid for pid, _, _ in engine.workers.values()} == set(manager.stats[-1]["worker_pids"])
        entries = engine.run(0, 1, sample_apps.add, 2, 3)
        assert [(task, status) for task, status, _ in entries] == [(1, STARTED), (1, OK)]
        assert serialize.loads(entries[-1][2]) == 5
        # The function travels once per worker process.
        entries = engine.run(0, 2, sample_apps.add, 4, 5)
        assert serialize.loads(entries[-1][2]) == 9
        # Tasks sent to the manager itself fail: it runs none on this path.
        (task_id,) = manager.submit([manager.python_task(sample_apps.add, 1, 1)])
        result = manager.wait_results([task_id])[task_id]
        assert result.status == FAILED and "hands its workers to the engine" in result.info["message"]
    finally:
        engine.close()


def test_a_dead_worker_is_reported_and_its_replacement_handed_over(start_manager) -> None:
    engine = Engine()
    try:
        start(start_manager, engine)
        engine.receive()
        engine.receive()
        pid = engine.workers[0][0]
        os.kill(pid, signal.SIGKILL)
        kind, body = engine.receive()
        assert kind == WORKER_ENDED
        assert body["worker"] == 0 and body["pid"] == pid and body["signal"] == signal.SIGKILL
        assert body["exit_code"] is None and body["lost_reason"] is None and "signal 9" in body["words"]
        kind, body = engine.receive()
        assert kind == WORKER_READY and body["worker"] == 0 and body["pid"] != pid
        entries = engine.run(0, 7, sample_apps.add, 1, 2)
        assert serialize.loads(entries[-1][2]) == 3
    finally:
        engine.close()


def wait_until_stopped(pid: int, seconds: float = 10) -> bool:
    """Whether ``pid``'s state in /proc becomes T (stopped) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen = process_tree.state_and_cpu(pid)
        if seen is not None and seen[0] in ("T", "t"):
            return True
        time.sleep(0.005)  # polling the kernel's view of another process; nothing to wait on
    return False


def test_the_engine_has_workers_killed_and_stale_requests_change_nothing(start_manager) -> None:
    engine = Engine()
    try:
        start(start_manager, engine)
        engine.receive()
        engine.receive()
        pid0, pid1 = engine.workers[0][0], engine.workers[1][0]
        # A request naming an old pid of the index is ignored.
        engine.send(KILL_WORKER, {"worker": 0, "pid": pid0 + 100000, "reason": "stale"})
        engine.send(KILL_WORKER, {"worker": 1, "pid": pid1, "reason": "it runs killed task 3"})
        kind, body = engine.receive()
        assert kind == WORKER_ENDED and body["worker"] == 1 and body["pid"] == pid1
        kind, body = engine.receive()
        assert kind == WORKER_READY and body["worker"] == 1
        assert process_alive(pid0)
        # A silent worker that is stopped (SIGSTOP) is taken for hung and killed, with the reason.
        os.kill(pid0, signal.SIGSTOP)
        # The stop takes effect when the worker is next scheduled: tell the manager only once it
        # shows (a worker the manager sees still running is not taken for hung, rightly).
        assert wait_until_stopped(pid0), f"worker {pid0} did not stop within 10 s of SIGSTOP"
        engine.send(WORKER_SILENT, {"worker": 0, "pid": pid0, "silence": 60.0})
        kind, body = engine.receive()
        assert kind == WORKER_ENDED and body["worker"] == 0
        assert "stopped answering" in body["lost_reason"]
    finally:
        engine.close()


def test_a_descriptor_that_did_not_come_through_leaves_the_relay(start_manager) -> None:
    # fd 3 is not passed (a launch command that closes what it does not know): the manager relays.
    manager = start_manager(args=("--worker-socket", "3"))
    assert manager.hello is not None and manager.hello["hands_off_workers"] is False
    assert manager.run(sample_apps.add, 2, 3).value == 5
