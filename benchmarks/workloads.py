"""The benchmark workloads, written with Parsl's API only, so that the same file runs under real
Parsl and under Sprig:

    .bench-venv/parsl/bin/python benchmarks/workloads.py --executor htex
    .build/release/sprig run   benchmarks/workloads.py --executor htex

Options: ``--executor threads|htex`` (2 threads, or one local block of 2 workers), ``--no-log``
(``Config(initialize_logging=False)``; the default keeps the system's own default), ``--quick``
(counts divided by 10, the five ``generate`` apps sleep i/10 s instead of i s).

The apps are defined here, as a user would write them. One process runs every workload once, in
this order: first result (startup), 200 no-ops of warm-up (not measured), 5,000 no-ops submitted at
once, 200 sequential round trips, a 1,000-link chain, 1,000 apps reduced by one, 500 bash ``true``,
the article's five ``generate(10, i)``, 200 echoes of 1 MiB. The last line printed is one JSON
object with every figure and the wall-clock (``time.time()``) window of each workload, which
``scripts/bench-vs-parsl`` matches with the memory it samples from outside.

``--scale`` runs the scale workload instead (``scripts/bench-vs-parsl --scale``), on the process
executor: after the first result and a warm-up, for each size N of ``--sizes`` (default 10,000,
100,000, 1,000,000), N no-ops submitted in waves of ``--wave`` (10,000) — a wave is submitted,
its results awaited, then the next — and then a fan-in: ``--fan`` (100,000) ``inc(i)`` all
submitted, then one ``total(inputs=[...])`` over them. Per size: the cost per task (wall seconds /
N) and the submitting process's RSS (VmRSS read after every wave; its highest value). The fan-in:
its time per task, and the RSS once every future is live. The RSS with nothing submitted (after
the warm-up) is the floor; memory per live task is the RSS once the first wave is submitted, less
the floor, over the wave (read before anything else raised the high-water mark).
``--chain N`` adds an N-link chain (each ``inc`` takes the previous future) and the RSS growth
at its end: what a long finished chain of futures keeps.
"""

import time

IMPORT_STARTED = time.time()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import parsl  # noqa: E402
from parsl.app.app import bash_app, python_app  # noqa: E402
from parsl.config import Config  # noqa: E402
from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor  # noqa: E402
from parsl.providers import LocalProvider  # noqa: E402

from measure import Figures, own_peak_rss_mb, status_mb  # noqa: E402  (benchmarks/measure.py, beside this file)

IMPORTED = time.time()


@python_app
def noop():
    return None


@python_app
def inc(x):
    return x + 1


@python_app
def total(inputs=()):
    return sum(inputs)


@python_app
def echo(data):
    return data


@python_app
def generate(limit, delay):
    from random import randint
    import time
    time.sleep(delay)
    return randint(1, limit)


@bash_app
def shell_true():
    return "true"


def make_config(executor: str, log: bool) -> Config:
    if executor == "threads":
        chosen = ThreadPoolExecutor(label="threads", max_threads=2)
    else:
        # Loopback only: the interchange binds to 127.0.0.1 and the workers connect there.
        chosen = HighThroughputExecutor(
            label="htex",
            address="127.0.0.1",
            max_workers_per_node=2,
            cores_per_worker=1,
            provider=LocalProvider(init_blocks=1, max_blocks=1),
        )
    return Config(executors=[chosen]) if log else Config(executors=[chosen], initialize_logging=False)


def versions() -> dict:
    found = {"system": "sprig" if parsl.__version__.endswith("+sprig") else "parsl",
             "parsl": parsl.__version__, "python": sys.version.split()[0], "executable": sys.executable}
    for name in ("cloudpickle", "dill", "zmq"):
        try:
            module = __import__(name)
            found[name] = getattr(module, "__version__", "?")
        except ImportError:
            found[name] = None
    return found


def scale_workload(options) -> int:
    """The scale workload (``--scale``, see the module docstring)."""
    sizes = [int(size) for size in options.sizes.split(",") if size]
    m = Figures()
    figures = m.figures
    parsl.load(make_config("htex", log=not options.no_log))
    noop().result()
    figures["first_result_epoch"] = time.time()
    for future in [noop() for _ in range(200)]:
        future.result()
    figures["floor_rss_mb"] = status_mb("VmRSS")
    figures["sizes"] = sizes

    for size in sizes:
        started = time.time()
        clock = time.perf_counter()
        highest = 0.0
        left = size
        while left > 0:
            wave = [noop() for _ in range(min(options.wave, left))]
            if "live_kb_per_task" not in figures:
                # The first wave, every task of it submitted: what a task costs while it is live.
                figures["live_kb_per_task"] = max(0.0, status_mb("VmRSS") - figures["floor_rss_mb"]) * 1024 / len(wave)
            for future in wave:
                future.result()
            left -= len(wave)
            del wave
            highest = max(highest, status_mb("VmRSS"))
        figures[f"scale_{size}_us_per_task"] = (time.perf_counter() - clock) / size * 1e6
        figures[f"scale_{size}_rss_mb"] = highest
        m.phase(f"scale_{size}", started)

    if options.fan:
        before = status_mb("VmRSS")
        started = time.time()
        clock = time.perf_counter()
        parts = [inc(i) for i in range(options.fan)]
        live = status_mb("VmRSS")
        reduced = total(inputs=parts).result()
        figures["fan_in_us_per_task"] = (time.perf_counter() - clock) / options.fan * 1e6
        m.phase("fan_in", started)
        assert reduced == options.fan * (options.fan + 1) // 2, reduced
        figures["fan_in_count"] = options.fan
        figures["fan_in_live_rss_mb"] = live
        figures["fan_in_rss_growth_mb"] = live - before
        del parts

    if options.chain:
        before = status_mb("VmRSS")
        started = time.time()
        link = inc(0)
        for _ in range(options.chain - 1):
            link = inc(link)
        assert link.result() == options.chain
        m.phase("chain", started)
        figures["chain_count"] = options.chain
        figures["chain_rss_growth_mb"] = status_mb("VmRSS") - before
        figures["chain_end_rss_mb"] = status_mb("VmRSS")
        del link

    figures["own_peak_rss_mb"] = own_peak_rss_mb()
    parsl.dfk().cleanup()
    parsl.clear()
    print(json.dumps({"workload": "scale", "executor": "htex", "pid": os.getpid(), "versions": versions(),
                      "figures": figures, "phases": m.phases}), flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="Parsl-API benchmark workloads (see the module docstring)")
    parser.add_argument("--executor", choices=("threads", "htex"), default="threads")
    parser.add_argument("--no-log", action="store_true", help="Config(initialize_logging=False)")
    parser.add_argument("--quick", action="store_true", help="counts / 10, generate sleeps / 10")
    parser.add_argument("--scale", action="store_true", help="the scale workload instead (process executor)")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="--scale: no-op counts, comma-separated")
    parser.add_argument("--wave", type=int, default=10_000, help="--scale: tasks per wave")
    parser.add_argument("--fan", type=int, default=100_000, help="--scale: fan-in width (0: none)")
    parser.add_argument("--chain", type=int, default=0, help="--scale: links of a chain of futures (0: none)")
    parser.add_argument("--idle", action="store_true",
                        help="load the config, wait for one no-op, print the RSS (the memory floor) and stop")
    options = parser.parse_args()
    if options.scale:
        return scale_workload(options)
    if options.idle:
        parsl.load(make_config(options.executor, log=not options.no_log))
        noop().result()
        figures = {"idle_rss_mb": status_mb("VmRSS"), "idle_peak_rss_mb": own_peak_rss_mb()}
        parsl.dfk().cleanup()
        parsl.clear()
        print(json.dumps({"workload": "idle", "versions": versions(), "figures": figures, "phases": {}}), flush=True)
        return 0
    scale = 10 if options.quick else 1
    m = Figures()
    figures, phase = m.figures, m.phase

    load_started = time.time()
    parsl.load(make_config(options.executor, log=not options.no_log))
    loaded = time.time()
    noop().result()
    figures["first_result_epoch"] = time.time()
    figures["import_s"] = IMPORTED - IMPORT_STARTED
    figures["load_s"] = loaded - load_started
    figures["load_to_first_result_s"] = figures["first_result_epoch"] - load_started

    # Warm-up, not measured (the same 200 no-ops on both systems).
    for future in [noop() for _ in range(200)]:
        future.result()

    m.burst(noop, 5000 // scale)
    m.round_trips(noop, 200 // scale)

    links = 1000 // scale
    started = time.time()
    clock = time.perf_counter()
    link = inc(0)
    for _ in range(links - 1):
        link = inc(link)
    assert link.result() == links, link.result()
    figures["chain_links"] = links
    figures["chain_s"] = time.perf_counter() - clock
    phase("chain", started)

    parts = 1000 // scale
    started = time.time()
    clock = time.perf_counter()
    reduced = total(inputs=[inc(i) for i in range(parts)]).result()
    figures["fan_s"] = time.perf_counter() - clock
    phase("fan", started)
    assert reduced == parts * (parts + 1) // 2, reduced
    figures["fan_count"] = parts

    shells = 500 // scale
    started = time.time()
    clock = time.perf_counter()
    codes = [f.result() for f in [shell_true() for _ in range(shells)]]
    figures["bash_rate"] = shells / (time.perf_counter() - clock)
    phase("bash", started)
    assert codes == [0] * shells, set(codes)
    figures["bash_count"] = shells

    started = time.time()
    clock = time.perf_counter()
    numbers = [f.result() for f in [generate(10, i / scale) for i in range(5)]]
    figures["generate_s"] = time.perf_counter() - clock
    phase("generate", started)
    assert all(1 <= n <= 10 for n in numbers), numbers
    figures["generate_bound_s"] = 6 / scale

    m.echoes(echo, bytes(range(256)) * 4096, 200 // scale)  # 1 MiB

    figures["own_peak_rss_mb"] = own_peak_rss_mb()
    clock = time.perf_counter()
    parsl.dfk().cleanup()
    parsl.clear()
    figures["cleanup_s"] = time.perf_counter() - clock

    print(json.dumps({"executor": options.executor, "log": not options.no_log, "quick": options.quick,
                      "pid": os.getpid(), "versions": versions(), "figures": figures, "phases": m.phases}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
