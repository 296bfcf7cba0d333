"""Benchmark (not a test): tasks/s and round-trip latency through a manager with 2 workers.

Run: cd python && /usr/bin/python3.11 tests/bench_manager.py [--tasks 5000] [--batch 500] [--resource-interval S]

Prints: time to the first result after starting the manager, RSS of the manager and its idle
workers, throughput for N no-op tasks (sent in TASKS frames of --batch tasks), and the median
round-trip latency of single tasks sent one at a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import sample_apps  # noqa: E402
from client import ManagerProcess  # noqa: E402


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--latency-rounds", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--prefetch", type=int, default=None, help="the manager's --prefetch (default: its own)")
    parser.add_argument("--resource-interval", type=float, default=None, help="the manager's --resource-interval (default: none)")
    options = parser.parse_args()

    args: tuple[str, ...] = () if options.prefetch is None else ("--prefetch", str(options.prefetch))
    if options.resource_interval is not None:
        args += ("--resource-interval", repr(options.resource_interval))
    manager = ManagerProcess(workers=options.workers, args=args, stderr_path=Path("/tmp/sprig-bench-manager.err"))
    try:
        manager.handshake()
        first = manager.run(sample_apps.noop)
        assert first.status == 0
        startup = time.monotonic() - manager.started_at
        stats = manager.wait_stats(lambda s: len(s["worker_pids"]) == options.workers)
        rss = {pid: rss_kb(pid) for pid in [manager.pid, *stats["worker_pids"]]}

        # Throughput: all tasks submitted in batches, then wait for every result.
        started = time.perf_counter()
        ids: list[int] = []
        for offset in range(0, options.tasks, options.batch):
            count = min(options.batch, options.tasks - offset)
            ids += manager.submit([manager.python_task(sample_apps.noop) for _ in range(count)])
        results = manager.wait_results(ids, seconds=120)
        elapsed = time.perf_counter() - started
        assert all(result.status == 0 for result in results.values())

        # Latency: one task at a time.
        latencies = []
        for _ in range(options.latency_rounds):
            entry = manager.python_task(sample_apps.noop)
            began = time.perf_counter()
            (task_id,) = manager.submit([entry])
            manager.wait_results([task_id])
            latencies.append(time.perf_counter() - began)

        print(f"first result after start:  {startup * 1000:.1f} ms (manager + {options.workers} workers)")
        print(
            f"RSS idle:                  {sum(rss.values()) / 1024:.1f} MB total "
            f"({', '.join(f'{kb / 1024:.1f}' for kb in rss.values())} MB: manager, workers)"
        )
        print(
            f"throughput:                {options.tasks / elapsed:,.0f} tasks/s "
            f"({options.tasks} no-ops in {elapsed * 1000:.0f} ms, batches of {options.batch})"
        )
        print(
            f"round-trip latency:        median {statistics.median(latencies) * 1e6:.0f} us, "
            f"p90 {sorted(latencies)[int(len(latencies) * 0.9)] * 1e6:.0f} us ({options.latency_rounds} single tasks)"
        )
        manager.shutdown()
        manager.wait_exit(10)
        manager.assert_all_gone()
    finally:
        manager.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
