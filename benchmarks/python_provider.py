"""A block of a provider defined in Python against the engine's own local block: the time from
``parsl.load`` to the first no-op result, then no-op tasks per second (5,000 submitted at once).

    SPRIG_PYTHON_PATH=$PWD/python .build/release/sprig run benchmarks/python_provider.py local|python RUN_DIR

``local`` is ``LocalProvider`` (the engine runs the block: the two-hop path); ``python`` is a
``LocalProvider`` subclass overriding ``submit`` (the engine calls it; the manager connects back over
TLS). Alternate the two modes when comparing (docs/PERFORMANCE.md, "Blocks of providers defined in Python").
"""

import sys, time
import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

class Subclass(LocalProvider):
    def submit(self, command, tasks_per_node, job_name="bench"):
        return super().submit(command, tasks_per_node, job_name)

@parsl.python_app
def noop():
    return None

mode, run_dir = sys.argv[1], sys.argv[2]
provider = (Subclass if mode == "python" else LocalProvider)(init_blocks=1, max_blocks=1)
t0 = time.monotonic()
with parsl.load(Config(executors=[HighThroughputExecutor(provider=provider, max_workers_per_node=2, address="127.0.0.1")], strategy="none", run_dir=run_dir)):
    noop().result()
    first = time.monotonic() - t0
    t1 = time.monotonic()
    futures = [noop() for _ in range(5000)]
    for f in futures:
        f.result()
    rate = 5000 / (time.monotonic() - t1)
print(f"{mode}: first result {first*1000:.0f} ms, {rate:.0f} no-op tasks/s")
