"""What the fault workflows in this folder share: the config, the apps, and how a workflow tells
`scripts/chaos` what happened.

Written with Parsl's API only, so the same files run under `sprig run` and under real Parsl
(`.bench-venv/parsl/bin/python`). `scripts/chaos` puts this folder on PYTHONPATH, so workers of
either system import these apps by name.

A workflow talks to the harness in lines on stdout that start with ``CHAOS `` and carry one JSON
object with an ``event``:

- ``pids``: a worker PID and its parent (the manager), printed the first time a task result
  names that pair; the harness signals only PIDs reported this way (and checks them in /proc);
- ``start``: the phase the fault is aimed at has been submitted;
- ``result``: the tally: ``tasks``, ``ok``, ``failed`` (by error type), ``lost``, ``wrong``,
  completion times (ms after ``t0``) and whatever the workflow measured itself.

Every wait is bounded by ``--bound`` (seconds the harness allows the whole process): the tally is
printed ``MARGIN`` seconds before that, whatever is still unsettled counting as lost.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import random
import sys
import threading
import time
from typing import Any

import parsl
from parsl.app.app import bash_app, python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
from parsl.providers import LocalProvider

STARTED = time.time()
#: Seconds before the harness's bound by which the tally is printed.
MARGIN = 8.0


def emit(event: str, **fields: Any) -> None:
    print("CHAOS " + json.dumps({"event": event, **fields}), flush=True)


# MARK: apps


@python_app
def short(x, delay):
    """A short app: sleeps ``delay`` seconds, returns ``[2x, worker pid, manager pid]``."""
    import os
    import time
    time.sleep(delay)
    return [2 * x, os.getpid(), os.getppid()]


@python_app
def long_app(x, seconds):
    """A long app: ``[2x, pid, ppid, start, end]`` (wall-clock start and end on the worker)."""
    import os
    import time
    start = time.time()
    time.sleep(seconds)
    return [2 * x, os.getpid(), os.getppid(), start, time.time()]


@python_app
def inc(previous):
    """One link of a chain: ``previous`` is another app's ``[v, pid, ppid]``; gives ``[v + 1, pid, ppid]``."""
    import os
    return [previous[0] + 1, os.getpid(), os.getppid()]


@python_app
def nested_depth(value):
    """How deep a list is nested, counted without recursion."""
    levels = 0
    while isinstance(value, list) and value:
        value = value[0]
        levels += 1
    return [levels, 0, 0]


@bash_app
def sleeper(seconds):
    return f"sleep {seconds}"


# MARK: setup


def options(description: str, **extra: tuple[type, Any]) -> argparse.Namespace:
    """``--executor``, ``--workers``, ``--bound``, ``--seed`` and the workflow's own ``--name`` options
    (``extra``: name → (type, default))."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--executor", choices=("threads", "htex"), default="htex")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bound", type=float, default=60.0, help="seconds the harness allows this process")
    parser.add_argument("--seed", type=int, default=0)
    for name, (kind, default) in extra.items():
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=default)
    return parser.parse_args()


def load(opts: argparse.Namespace, retries: int = 2, worker_init: str = "") -> None:
    """Loads one executor, as a user would: 2 threads, or one local block of ``--workers`` workers."""
    if opts.executor == "threads":
        executor = ThreadPoolExecutor(label="threads", max_threads=opts.workers)
    else:
        executor = HighThroughputExecutor(
            label="htex", address="127.0.0.1", max_workers_per_node=opts.workers, cores_per_worker=1,
            provider=LocalProvider(init_blocks=1, min_blocks=1, max_blocks=1, worker_init=worker_init))
    parsl.load(Config(executors=[executor], retries=retries))


def deadline(opts: argparse.Namespace) -> float:
    return STARTED + opts.bound - MARGIN


# MARK: the tally


class Tally:
    """Futures with their expected values; reports each new worker/manager PID pair as results
    arrive, and every completion's time."""

    def __init__(self) -> None:
        self.t0 = time.time()
        self.items: list[tuple[Any, Any]] = []
        self.raised: list[str] = []  # errors raised by the call itself (no future)
        self.times: list[float] = []
        self.done_at: dict[int, float] = {}  # id(future) → when it completed
        self.pairs: set[tuple[int, int]] = set()
        self.lock = threading.Lock()

    def add(self, future: Any, expected: Any) -> Any:
        self.items.append((future, expected))
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Any) -> None:
        now = time.time()
        pair = None
        try:
            if future.exception() is None:
                value = future.result()
                if isinstance(value, list) and len(value) >= 3 and value[1]:
                    pair = (int(value[1]), int(value[2]))
        except BaseException:  # noqa: BLE001 (a cancelled future)
            pass
        with self.lock:
            self.times.append(now)
            self.done_at[id(future)] = now
            new = pair is not None and pair not in self.pairs
            if new:
                self.pairs.add(pair)
        if new:
            emit("pids", worker=pair[0], manager=pair[1])

    def wait(self, until: float, futures: list[Any] | None = None) -> None:
        pending = [f for f, _ in self.items] if futures is None else futures
        concurrent.futures.wait(pending, timeout=max(0.0, until - time.time()))

    def last_completion(self, futures: list[Any]) -> float | None:
        with self.lock:
            times = [self.done_at[id(f)] for f in futures if id(f) in self.done_at]
        return max(times) if times else None

    def rate(self, futures: list[Any], since: float) -> float:
        """Tasks per second from ``since`` to the last of ``futures`` to complete."""
        return len(futures) / max(1e-6, (self.last_completion(futures) or time.time()) - since)

    def outcome(self, future: Any, expected: Any) -> tuple[str, str]:
        """("ok" | "failed" | "lost" | "wrong", detail)."""
        if not future.done():
            return "lost", ""
        error = future.exception()
        if error is not None:
            return "failed", f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        value = future.result()
        got = value[0] if isinstance(value, list) and value else value
        return ("ok", "") if got == expected else ("wrong", f"got {got!r}, expected {expected!r}")

    def report(self, **measured: Any) -> None:
        counts = {"ok": 0, "failed": 0, "lost": 0, "wrong": 0}
        errors: dict[str, int] = {}
        examples: list[str] = []
        for future, expected in self.items:
            kind, detail = self.outcome(future, expected)
            counts[kind] += 1
            if kind == "failed":
                name = detail.split(":", 1)[0]
                errors[name] = errors.get(name, 0) + 1
            if detail and len(examples) < 3 and kind != "ok":
                examples.append(detail[:200])
        for text in self.raised:
            counts["failed"] += 1
            name = text.split(":", 1)[0]
            errors[name] = errors.get(name, 0) + 1
        with self.lock:
            times = [round((t - self.t0) * 1000) for t in self.times]
        emit("result", tasks=len(self.items) + len(self.raised), errors=errors, examples=examples,
             t0=self.t0, times=times, system="sprig" if parsl.__version__.endswith("+sprig") else "parsl",
             **counts, **measured)


def short_delays(count: int, seed: int, low: float = 0.0, high: float = 0.005) -> list[float]:
    generator = random.Random(seed)
    return [generator.uniform(low, high) for _ in range(count)]


def warm_up(tally: Tally, opts: argparse.Namespace, count: int = 40) -> None:
    """A few short tasks, so that every worker has reported its PID before the fault."""
    futures = [tally.add(short(i, 0.01), 2 * i) for i in range(count)]
    tally.wait(deadline(opts), futures)


def baseline(tally: Tally, opts: argparse.Namespace, count: int) -> float:
    """Throughput (tasks/s) of ``count`` short apps on every worker, before any fault."""
    since = time.time()
    futures = [tally.add(short(i, delay), 2 * i) for i, delay in enumerate(short_delays(count, opts.seed + 1))]
    tally.wait(deadline(opts), futures)
    return tally.rate(futures, since)


def finish() -> None:
    """Ends the workflow as a script would: waits for the tasks and cleans up."""
    parsl.dfk().cleanup()
    sys.stdout.flush()
