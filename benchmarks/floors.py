"""Floors of this machine, measured with nothing but Python's standard library: what any engine
built from the same parts (Python threads, processes, pipes, pickle) cannot go below here.

    /usr/bin/python3.11 benchmarks/floors.py

- thread hand-off: a round trip between two Python threads (a semaphore each way);
- pipe round trip: 1 byte to another process and back;
- 4-hop relay: 1 byte from A through B to C and back through B (the shape of Sprig's process
  executor: engine → manager → worker → manager → engine);
- 1 MiB through the 4-hop relay (the bytes cross four pipes), with the default pipe size and with
  1 MiB pipes (F_SETPIPE_SZ); and pickling + unpickling 1 MiB of bytes;
- concurrent.futures: ThreadPoolExecutor(2) and ProcessPoolExecutor(2), no-op round trip and
  5,000 no-ops submitted at once.
Prints one line per floor (medians of 3 repetitions).
"""

from __future__ import annotations

import concurrent.futures as cf
import fcntl
import os
import pickle
import statistics
import threading
import time

MIB = 1 << 20
F_SETPIPE_SZ = 1031


def noop():
    return None


def thread_handoff(rounds: int = 2000) -> float:
    there, back = threading.Semaphore(0), threading.Semaphore(0)

    def other():
        for _ in range(rounds):
            there.acquire()
            back.release()

    thread = threading.Thread(target=other)
    thread.start()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        there.release()
        back.acquire()
        times.append(time.perf_counter() - started)
    thread.join()
    return statistics.median(times) * 1e6


def read_exactly(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, MIB))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def pipes(count: int, size: int | None) -> list[tuple[int, int]]:
    made = [os.pipe() for _ in range(count)]
    if size:
        for r, _ in made:
            fcntl.fcntl(r, F_SETPIPE_SZ, size)
    return made


def pipe_round_trip(rounds: int = 2000) -> float:
    (a_r, a_w), (b_r, b_w) = pipes(2, None)
    child = os.fork()
    if child == 0:
        for _ in range(rounds):
            os.write(b_w, os.read(a_r, 1))
        os._exit(0)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        os.write(a_w, b"x")
        os.read(b_r, 1)
        times.append(time.perf_counter() - started)
    os.waitpid(child, 0)
    for fd in (a_r, a_w, b_r, b_w):
        os.close(fd)
    return statistics.median(times) * 1e6


def relay(rounds: int, size: int, pipe_size: int | None) -> list[float]:
    """A → B → C → B → A with `size` bytes, `rounds` times; returns each round trip's seconds."""
    (p1r, p1w), (p2r, p2w), (p3r, p3w), (p4r, p4w) = pipes(4, pipe_size)
    middle = os.fork()
    if middle == 0:
        for _ in range(rounds):
            write_all(p2w, read_exactly(p1r, size))
            write_all(p4w, read_exactly(p3r, size))
        os._exit(0)
    end = os.fork()
    if end == 0:
        for _ in range(rounds):
            write_all(p3w, read_exactly(p2r, size))
        os._exit(0)
    data = b"x" * size
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        write_all(p1w, data)
        read_exactly(p4r, size)
        times.append(time.perf_counter() - started)
    os.waitpid(middle, 0)
    os.waitpid(end, 0)
    for pair in ((p1r, p1w), (p2r, p2w), (p3r, p3w), (p4r, p4w)):
        for fd in pair:
            os.close(fd)
    return times


def pickle_round_trip(rounds: int = 200) -> float:
    data = bytes(range(256)) * 4096
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        pickle.loads(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def pool_figures(pool: cf.Executor) -> tuple[float, float]:
    for future in [pool.submit(noop) for _ in range(200)]:
        future.result()
    times = []
    for _ in range(200):
        started = time.perf_counter()
        pool.submit(noop).result()
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    for future in [pool.submit(noop) for _ in range(5000)]:
        future.result()
    return statistics.median(times) * 1e6, 5000 / (time.perf_counter() - started)


def repeat(measure, times: int = 3):
    values = [measure() for _ in range(times)]
    if isinstance(values[0], tuple):
        return tuple(statistics.median(v[i] for v in values) for i in range(len(values[0])))
    return statistics.median(values)


def main() -> None:
    print(f"floors on {os.cpu_count()} cores, Python {os.sys.version.split()[0]} (medians of 3 repetitions)")
    print(f"thread hand-off round trip (2 Python threads):     {repeat(thread_handoff):7.0f} us")
    print(f"pipe round trip (2 processes, 1 byte):             {repeat(pipe_round_trip):7.0f} us")
    print(f"4-hop relay A>B>C>B>A (3 processes, 1 byte):       "
          f"{repeat(lambda: statistics.median(relay(2000, 1, None)) * 1e6):7.0f} us")
    for label, size in (("default 64 KiB pipes", None), ("1 MiB pipes", MIB)):
        rate = repeat(lambda: 1 / statistics.median(relay(100, MIB, size)))
        print(f"1 MiB through the 4-hop relay, {label + ':':22s} {rate:7.0f} MiB/s one way, one at a time")
    print(f"pickle.dumps + loads of 1 MiB bytes:               {repeat(pickle_round_trip):7.0f} us")
    with cf.ThreadPoolExecutor(2) as pool:
        latency, rate = repeat(lambda: pool_figures(pool))
    print(f"concurrent.futures ThreadPoolExecutor(2):          {latency:7.0f} us round trip, {rate:,.0f} no-ops/s")
    with cf.ProcessPoolExecutor(2) as pool:
        latency, rate = repeat(lambda: pool_figures(pool))
    print(f"concurrent.futures ProcessPoolExecutor(2):         {latency:7.0f} us round trip, {rate:,.0f} no-ops/s")


if __name__ == "__main__":
    main()
