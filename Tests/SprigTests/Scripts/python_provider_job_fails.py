"""A provider whose jobs end before their managers connect: its status says so, the block ends
with the job's state as the reason, the task fails with BadStateException. Prints what the test checks."""

import sys

import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.executors.errors import BadStateException
from parsl.providers import LocalProvider


class Quitter(LocalProvider):
    status_polling_interval = 0.2

    def submit(self, command, tasks_per_node, job_name="quitter"):
        return super().submit("echo giving up >&2; exit 3", tasks_per_node, job_name)


@parsl.python_app
def one():
    return 1


executor = HighThroughputExecutor(label="quits", provider=Quitter(init_blocks=1, max_blocks=1), address="127.0.0.1")
with parsl.load(Config(executors=[executor], run_dir=sys.argv[1])):
    try:
        one().result(timeout=30)
    except BadStateException as error:
        print("BadStateException", "ended: FAILED (exit code 3): giving up" in str(error))
    print("status", [status.state.name for status in executor.status().values()])
