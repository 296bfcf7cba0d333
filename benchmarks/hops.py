"""Where a process-executor round trip goes: each hop and each wake-up, measured separately.

    /usr/bin/python3.11 benchmarks/hops.py [--rounds 2000] [--engine .build/release/sprig-bench]

A no-op task on a local block crosses engine -> manager -> worker -> manager -> engine. This
command measures the same trip with one part more at each step, so that the differences say what
each part costs (medians of --rounds single round trips, one in flight, repeated 3 times):

1. pipe, 2 hops: 1 byte to another process and back (the floor of engine <-> worker);
2. pipe, 4 hops: 1 byte through a relay process and back (the floor of the manager's path);
3. worker alone, 2 hops: a real ``sprig.worker`` driven over its two pipes by this process
   (a no-op TASKS frame in, RESULTS frames back);
4. manager + 2 workers, 4 hops: a real ``sprig.manager`` driven over its stdin/stdout;
5. the engine (with --engine): ``sprig-bench htex --runs 1 --json``, the kernel's round trip
   through one local block of 2 workers (submit -> future result), and its 1,000-link chain; and
   ``sprig-bench wakeups``, what waking a Swift thread costs (a semaphore, a pipe read), the
   floor under each hand-off left in the engine.

For 3 and 4 it also counts, per task, the frames and the reads (wake-ups of this process) that
carried them back: a worker announces STARTED in a frame of its own before it runs a task, so a
chain of single tasks costs two wake-ups per hop on the way back instead of one.
Figures only, nothing is asserted; run it on an idle machine and quote ``/proc/loadavg``.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "python"), str(ROOT / "python" / "tests")]

import floors  # noqa: E402
import sample_apps  # noqa: E402
from client import PY, ManagerProcess, encode_task, manager_env  # noqa: E402

from sprig import serialize  # noqa: E402
from sprig.protocol import HEADER, RESULT_HEAD, RESULTS, STATUS_STARTED, TASKS, FrameReader  # noqa: E402


class Counter:
    """Frames and reads seen on the way back, per task."""

    def __init__(self) -> None:
        self.frames = 0
        self.reads = 0


class DirectWorker:
    """A ``sprig.worker`` whose manager is this process: its stdin and stdout are our pipes."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [PY, "-m", "sprig.worker", "--index", "0", "--manager-pid", str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=manager_env(),
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.wfd = self.proc.stdin.fileno()
        self.rfd = self.proc.stdout.fileno()
        self.reader = FrameReader(self.rfd)
        self.frames: list[tuple[int, memoryview]] = []  # read, not yet looked at
        self.next_id = 1
        self.fn_sent = False
        self.call = serialize.dumps_call((), {})
        self.fn = serialize.dumps_function(sample_apps.noop)
        self.wait_result(None, Counter(), 10)  # the empty RESULTS frame: ready

    def task_frame(self) -> tuple[int, bytes]:
        task_id = self.next_id
        self.next_id += 1
        fn = b"" if self.fn_sent else self.fn
        self.fn_sent = True
        body = struct.pack("<I", 1) + encode_task(task_id, 0, 7, fn, None, self.call)
        return task_id, HEADER.pack(len(body), TASKS) + body

    def wait_result(self, task_id: int | None, counter: Counter, seconds: float = 10) -> None:
        """Reads frames until the result of ``task_id`` (any RESULTS frame when None)."""
        deadline = time.monotonic() + seconds
        while True:
            while self.frames:
                kind, body = self.frames.pop(0)
                if kind != RESULTS:
                    continue
                counter.frames += 1
                if task_id is None:
                    return
                (count,) = struct.unpack_from("<I", body, 0)
                offset = 4
                for _ in range(count):
                    tid, status, size = RESULT_HEAD.unpack_from(body, offset)
                    offset += RESULT_HEAD.size + size
                    if tid == task_id and status != STATUS_STARTED:
                        return
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.rfd], [], [], left)[0]:
                raise RuntimeError("no result from the worker in time")
            frames = self.reader.read()
            if frames is None:
                raise RuntimeError("the worker closed its output")
            counter.reads += 1
            self.frames += frames

    def round_trips(self, rounds: int) -> tuple[list[float], Counter]:
        counter = Counter()
        times = []
        for _ in range(rounds):
            task_id, frame = self.task_frame()
            started = time.perf_counter()
            os.write(self.wfd, frame)
            self.wait_result(task_id, counter)
            times.append(time.perf_counter() - started)
        return times, counter

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def worker_alone(rounds: int) -> tuple[float, float, float]:
    worker = DirectWorker()
    try:
        worker.round_trips(200)  # warm-up
        times, counter = worker.round_trips(rounds)
    finally:
        worker.stop()
    return statistics.median(times) * 1e6, counter.frames / rounds, counter.reads / rounds


def through_manager(rounds: int) -> tuple[float, float, float]:
    manager = ManagerProcess(workers=2)
    try:
        manager.handshake()
        manager.run(sample_apps.noop)
        for _ in range(200):
            manager.run(sample_apps.noop)
        times = []
        frames_before = manager.frames_seen
        reads_before = manager.reads_seen
        for _ in range(rounds):
            entry = manager.python_task(sample_apps.noop)
            started = time.perf_counter()
            (task_id,) = manager.submit([entry])
            manager.wait_results([task_id])
            times.append(time.perf_counter() - started)
        frames = (manager.frames_seen - frames_before) / rounds
        reads = (manager.reads_seen - reads_before) / rounds
        manager.shutdown()
        manager.wait_exit(10)
        manager.assert_all_gone()
    finally:
        manager.cleanup()
    return statistics.median(times) * 1e6, frames, reads


def engine(path: str) -> tuple[float, float]:
    out = subprocess.run([path, "htex", "--runs", "1", "--json"], check=True, capture_output=True, text=True, timeout=600)
    figures = json.loads(out.stdout)["runs"][0]["figures"]
    return figures["latency_median_us"], figures["chain_s"]


def engine_wakeups(path: str, rounds: int) -> tuple[float, float]:
    out = subprocess.run([path, "wakeups", "--rounds", str(rounds)], check=True, capture_output=True, text=True, timeout=120)
    figures = dict(line.split("=", 1) for line in out.stdout.split())
    return float(figures["semaphore_us"]), float(figures["pipe_threads_us"])


def repeat(measure, times: int = 3):
    values = [measure() for _ in range(times)]
    return tuple(statistics.median(v[i] for v in values) for i in range(len(values[0])))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--engine", default=None, help="a built sprig-bench, for the engine's own round trip")
    options = parser.parse_args()
    rounds = options.rounds
    with open("/proc/loadavg") as load:
        print(f"round-trip breakdown, {os.cpu_count()} cores, load average {load.read().split()[0]} at start, "
              f"medians of {rounds} round trips, median of 3 repetitions")
    pipe2 = repeat(lambda: (floors.pipe_round_trip(rounds),))[0]
    pipe4 = repeat(lambda: (statistics.median(floors.relay(rounds, 1, None)) * 1e6,))[0]
    handoff = repeat(lambda: (floors.thread_handoff(rounds),))[0]
    alone, alone_frames, alone_reads = repeat(lambda: worker_alone(rounds))
    managed, managed_frames, managed_reads = repeat(lambda: through_manager(rounds))
    print(f"  thread hand-off and back (2 Python threads):   {handoff:7.1f} us   (one wake-up each way)")
    print(f"  pipe, 2 hops (1 byte there and back):          {pipe2:7.1f} us")
    print(f"  pipe, 4 hops (relay, 1 byte):                  {pipe4:7.1f} us")
    print(f"  worker alone, 2 hops (no-op task):             {alone:7.1f} us   "
          f"{alone_frames:.2f} frames, {alone_reads:.2f} reads back per task")
    print(f"  manager + 2 workers, 4 hops (no-op task):      {managed:7.1f} us   "
          f"{managed_frames:.2f} frames, {managed_reads:.2f} reads back per task")
    print(f"    worker's own cost over the 2-hop pipe:       {alone - pipe2:7.1f} us")
    print(f"    manager relay's cost over the worker alone:  {managed - alone:7.1f} us "
          f"(the bare extra 2 hops: {pipe4 - pipe2:.1f} us)")
    if options.engine:
        semaphore, pipe_threads = repeat(lambda: engine_wakeups(options.engine, rounds))
        print(f"  Swift threads, semaphore there and back:       {semaphore:7.1f} us   (a parked caller or thread woken)")
        print(f"  Swift threads, pipe there and back:            {pipe_threads:7.1f} us   (a block reader woken by its manager)")
        latency, chain = repeat(lambda: engine(options.engine))
        print(f"  engine, kernel round trip (submit -> result):  {latency:7.1f} us   1,000-link chain {chain:.3f} s")
        print(f"    engine's cost over the manager path:         {latency - managed:7.1f} us")
    with open("/proc/loadavg") as load:
        print(f"load average at the end: {load.read().split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
