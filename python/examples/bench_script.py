"""Benchmark run by `sprig-bench script`: the time of the first result, then no-op apps submitted
from Python (5,000 at once, and 200 one after another). Prints key=value lines."""

import sys
import time

import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

from bench_apps import noop as noop_function

first = time.time()
parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=2)]))
noop = python_app(noop_function)
noop().result()
print(f"first_result_epoch={time.time():.6f}")

for f in [noop() for _ in range(200)]:
    f.result()

count = 5000
start = time.perf_counter()
futures = [noop() for _ in range(count)]
submitted = time.perf_counter()
for f in futures:
    f.result()
ended = time.perf_counter()
print(f"submit_rate={count / (submitted - start):.0f}")
print(f"end_to_end={count / (ended - start):.0f}")

latencies = []
for _ in range(200):
    t = time.perf_counter()
    noop().result()
    latencies.append(time.perf_counter() - t)
latencies.sort()
print(f"latency_median_us={latencies[len(latencies) // 2] * 1e6:.1f}")
