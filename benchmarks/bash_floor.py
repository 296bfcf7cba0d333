"""Bash apps from a Parsl-API script against the spawn floor, alternated: each round runs N bash
apps (``true``, submitted at once, on ``ThreadPoolExecutor(max_threads=2)``), then, in a separate
process, the same N commands through the spawn a bash app makes on 2 plain threads and through a
bare ``posix_spawn`` (``sprig-bench spawn --only same-spawn,bare --rounds 1 --json``), in an order
that swaps from round to round. The same file runs under Sprig and under Parsl:

    .build/release/sprig run     benchmarks/bash_floor.py [--count 400] [--rounds 6]
    .bench-venv/parsl/bin/python benchmarks/bash_floor.py

Prints each round, then the medians and the median of the rounds' ratios (apps ÷ floor), with the
CPU per command of this process (every thread) and of its reaped children (the commands), and the
load average. Needs ``swift build -c release --product sprig-bench``.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import time

import parsl
from parsl.app.app import bash_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, ".build", "release", "sprig-bench")


@bash_app
def shell_true():
    return "true"


def cpu_us() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (own.ru_utime + own.ru_stime) * 1e6, (children.ru_utime + children.ru_stime) * 1e6


def apps(count: int) -> dict:
    (own, children), clock = cpu_us(), time.perf_counter()
    codes = [f.result() for f in [shell_true() for _ in range(count)]]
    wall = time.perf_counter() - clock
    own_after, children_after = cpu_us()
    assert codes == [0] * count, set(codes)
    return {"rate": count / wall, "own_us": (own_after - own) / count, "child_us": (children_after - children) / count}


def floors(count: int) -> dict:
    done = subprocess.run([BENCH, "spawn", "--only", "same-spawn,bare", "--rounds", "1", "--count", str(count), "--json"],
                          check=True, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {"same-spawn": found["same-spawn"][0], "bare": found["bare"][0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=6)
    options = parser.parse_args()
    if not os.access(BENCH, os.X_OK):
        raise SystemExit(f"{BENCH} is not built: swift build -c release --product sprig-bench")
    parsl.load(Config(executors=[ThreadPoolExecutor(label="threads", max_threads=2)]))
    apps(50)  # warm-up
    system = "Sprig" if parsl.__version__.endswith("+sprig") else f"Parsl {parsl.__version__}"
    rounds = []
    for number in range(options.rounds):
        if number % 2 == 0:
            measured = {"apps": apps(options.count), **floors(options.count)}
        else:
            measured = {**floors(options.count), "apps": apps(options.count)}
        rounds.append(measured)
        print(f"round {number + 1} [load {' '.join(f'{x:.2f}' for x in os.getloadavg())}]: " + "; ".join(
            f"{path} {m['rate']:,.0f}/s (CPU per command {m['own_us']:.0f} µs here, {m['child_us']:.0f} µs in bash)"
            for path, m in measured.items()), flush=True)
    for path in ("apps", "same-spawn", "bare"):
        print(f"{system}, median of {options.rounds} rounds of {options.count}, {path}: "
              f"{statistics.median(r[path]['rate'] for r in rounds):,.0f}/s, CPU per command "
              f"{statistics.median(r[path]['own_us'] for r in rounds):.0f} µs here, "
              f"{statistics.median(r[path]['child_us'] for r in rounds):.0f} µs in bash")
    for floor in ("same-spawn", "bare"):
        shares = [r["apps"]["rate"] / r[floor]["rate"] for r in rounds]
        print(f"apps / {floor}: {statistics.median(shares):.0%} (median of the rounds' ratios; "
              f"range {min(shares):.0%}–{max(shares):.0%})")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    parsl.dfk().cleanup()


if __name__ == "__main__":
    main()
