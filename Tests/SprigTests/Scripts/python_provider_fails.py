"""A provider whose submit raises: the task fails with BadStateException naming the class and the
exception; status() shows the block MISSING; nothing is left running. Prints what the test checks."""

import sys

import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.executors.errors import BadStateException


class BrokenScheduler:
    """Not a LocalProvider: Parsl's interface only."""

    init_blocks = 1
    min_blocks = 0
    max_blocks = 1
    parallelism = 1
    status_polling_interval = 1

    def __init__(self):
        self.calls = 0

    def submit(self, command, tasks_per_node, job_name=""):
        self.calls += 1
        raise OSError("the scheduler is down")

    def status(self, job_ids):
        return []

    def cancel(self, job_ids):
        return [False for _ in job_ids]


@parsl.python_app
def double(x):
    return 2 * x


provider = BrokenScheduler()
executor = HighThroughputExecutor(label="broken", provider=provider, address="127.0.0.1")
with parsl.load(Config(executors=[executor], run_dir=sys.argv[1])):
    future = double(4)
    try:
        future.result(timeout=30)
    except BadStateException as error:
        print("BadStateException", "BrokenScheduler.submit raised OSError: the scheduler is down" in str(error))
    states = executor.status()
    print("status", [status.state.name for status in states.values()])
    print("connected", executor.connected_blocks())
print("submit calls", provider.calls)
