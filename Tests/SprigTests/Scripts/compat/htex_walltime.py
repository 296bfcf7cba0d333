# On the process executor a walltime counts from when a worker starts the task, and a task queued
# at a busy worker is queued, not running.
import time

import parsl
from parsl.app.app import bash_app, python_app
from parsl.app.errors import AppTimeout
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

parsl.load(Config(executors=[HighThroughputExecutor(label="one", max_workers_per_node=1,
                                                    provider=LocalProvider(init_blocks=1, max_blocks=1))],
                  strategy="none"))


@python_app
def nap(seconds):
    import time
    time.sleep(seconds)
    return seconds


@bash_app
def bash_nap(seconds, walltime=0.01):
    return f"sleep {seconds}"


assert nap(0.01).result(timeout=60) == 0.01  # the block is up and its task durations known
try:
    bash_nap(2).result(timeout=60)
    raise AssertionError("no timeout")
except AppTimeout:
    pass
# The worker that ran it was killed: the next short task must not pay for its replacement.
assert bash_nap(0.05, walltime=1.5).result(timeout=60) == 0
first = nap(1.0)
behind = nap(0.1, walltime=0.6)  # queued behind the first for about a second, then 0.1 s
deadline = time.monotonic() + 20
counts = parsl.dfk().task_counts()
while counts["running"] != 1 and time.monotonic() < deadline:
    time.sleep(0.01)  # polling the counts, bounded
    counts = parsl.dfk().task_counts()
print("running", counts["running"], "queued", counts["queued"])
print("behind", behind.result(timeout=60), "first", first.result(timeout=60))
parsl.dfk().cleanup()
