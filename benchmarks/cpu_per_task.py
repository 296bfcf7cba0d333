"""Where the CPU goes: CPU time per task of every process and thread, for no-ops on a Parsl-API
config — the same file under real Parsl and under ``sprig run`` (a diagnostic for
docs/PERFORMANCE.md, not part of the comparison):

    .bench-venv/parsl/bin/python benchmarks/cpu_per_task.py --executor htex   # venv's bin on PATH
    .build/release/sprig run   benchmarks/cpu_per_task.py --executor htex

After loading and a warm-up it reads utime+stime of this process's threads and of every process
descended from it (this process makes itself a child subreaper first, so that Parsl's worker pool,
which its LocalProvider detaches, stays below it), runs a workload, reads them again, and prints
CPU us per task by thread (this process) and by process (the others). Workloads: ``burst``
(5,000 no-ops submitted at once, then awaited), ``latency`` (1,000 sequential round trips),
``payload`` (100 echoes of 1 MiB), ``bash`` (1,000 bash apps running ``true``, submitted at once; the
commands' own CPU, read from this process's reaped children, is a row of its own).
"""

import argparse
import ctypes
import os
import resource
import sys
import time

import parsl
from parsl.app.app import bash_app, python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
from parsl.providers import LocalProvider

TICK = os.sysconf("SC_CLK_TCK")


@python_app
def noop():
    return None


@python_app
def echo(data):
    return data


@bash_app
def shell_true():
    return "true"


def reaped_cpu():
    """CPU seconds of this process's children that have been reaped (the bash apps' commands)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_of(path):
    try:
        with open(path, "rb") as stat:
            text = stat.read()
    except OSError:
        return None
    close = text.rindex(b")")
    name = text[text.index(b"(") + 1:close].decode(errors="replace")
    fields = text[close + 2:].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def thread_cpu(pid, tid, ticks_seconds):
    """A thread's CPU seconds from its schedstat (nanoseconds; clock ticks are 10 ms), else from its ticks."""
    try:
        with open(f"/proc/{pid}/task/{tid}/schedstat") as stat:
            return int(stat.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return ticks_seconds


def snapshot():
    """{key: (label, cpu seconds)} for this process's threads and every descendant process."""
    me = os.getpid()
    found = {}
    for tid in os.listdir(f"/proc/{me}/task"):
        got = cpu_of(f"/proc/{me}/task/{tid}/stat")
        if got:
            found[("thread", int(tid))] = (f"this process, thread {got[0]}", thread_cpu(me, tid, got[2]))
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            got = cpu_of(f"/proc/{name}/stat")
            if got:
                parents[int(name)] = got
    children = {}
    for pid, (_, parent, _) in parents.items():
        children.setdefault(parent, []).append(pid)
    queue = list(children.get(me, ()))
    while queue:
        pid = queue.pop()
        queue += children.get(pid, ())
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            command = parents[pid][0]
        found[("process", pid)] = (f"pid {pid} {command[:90]}", parents[pid][2])
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--executor", choices=("threads", "htex"), default="htex")
    parser.add_argument("--workload", choices=("burst", "latency", "payload", "bash"), default="burst")
    parser.add_argument("--no-log", action="store_true")
    options = parser.parse_args()
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER

    if options.executor == "threads":
        executor = ThreadPoolExecutor(label="threads", max_threads=2)
    else:
        executor = HighThroughputExecutor(label="htex", address="127.0.0.1", max_workers_per_node=2, cores_per_worker=1,
                                          provider=LocalProvider(init_blocks=1, max_blocks=1))
    extra = {"initialize_logging": False} if options.no_log else {}
    parsl.load(Config(executors=[executor], **extra))
    for future in [noop() for _ in range(500)]:
        future.result()
    time.sleep(0.5)

    if options.workload == "bash":
        for future in [shell_true() for _ in range(50)]:
            future.result()
    before, reaped = snapshot(), reaped_cpu()
    wall = time.perf_counter()
    if options.workload == "burst":
        count = 5000
        for future in [noop() for _ in range(count)]:
            future.result()
    elif options.workload == "latency":
        count = 1000
        for _ in range(count):
            noop().result()
    elif options.workload == "bash":
        count = 1000
        for future in [shell_true() for _ in range(count)]:
            future.result()
    else:
        count = 100
        payload = bytes(range(256)) * 4096
        for future in [echo(payload) for _ in range(count)]:
            future.result()
    wall = time.perf_counter() - wall
    after, reaped = snapshot(), reaped_cpu() - reaped

    system = "Sprig" if parsl.__version__.endswith("+sprig") else f"Parsl {parsl.__version__}"
    print(f"{system}, {options.executor}, {options.workload} x{count}: {wall / count * 1e6:.0f} us wall per task "
          f"({count / wall:,.0f} tasks/s)")
    rows = []
    for key, (label, cpu) in after.items():
        used = cpu - before.get(key, (label, 0.0))[1]
        if used > 0:
            rows.append((used / count * 1e6, label))
    if reaped > 0:
        rows.append((reaped / count * 1e6, "reaped children (the bash apps' commands, and any other)"))
    total = sum(r[0] for r in rows)
    for per_task, label in sorted(rows, reverse=True):
        print(f"  {per_task:8.1f} us CPU/task  {label}")
    print(f"  {total:8.1f} us CPU/task  total ({total / (wall / count * 1e6):.2f} cores busy on average)")
    parsl.dfk().cleanup()
    parsl.clear()


if __name__ == "__main__":
    main()
