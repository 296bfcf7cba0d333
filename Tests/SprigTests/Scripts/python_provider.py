"""A LocalProvider subclass (Parsl's provider interface, overridden) runs tasks in two blocks;
shutdown cancels both jobs. Prints what the test checks."""

import re
import sys
import time

import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider


class RecordingProvider(LocalProvider):
    def __init__(self, **options):
        self.submitted = []
        self.cancelled = []
        self.commands = []
        super().__init__(**options)

    def submit(self, command, tasks_per_node, job_name="sprig-test"):
        self.commands.append(command)
        job_id = super().submit(command, tasks_per_node, job_name)
        self.submitted.append(job_id)
        return job_id

    def cancel(self, job_ids):
        self.cancelled.extend(job_ids)
        return super().cancel(job_ids)


@parsl.python_app
def job_of_worker(seconds):
    import os
    import time

    time.sleep(seconds)
    return os.getpgid(0)


provider = RecordingProvider(init_blocks=2, min_blocks=2, max_blocks=2)
executor = HighThroughputExecutor(label="recorded", provider=provider, max_workers_per_node=1, address="127.0.0.1")
with parsl.load(Config(executors=[executor], strategy="none", run_dir=sys.argv[1])):
    deadline = time.monotonic() + 30
    while len(executor.connected_managers()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # polling the executor's state until a deadline, as Parsl's try_assert does
    groups = {future.result(timeout=30) for future in [job_of_worker(0.3) for _ in range(4)]}

print("submitted", len(provider.submitted))
print("tasks ran in both jobs", groups == {int(job) for job in provider.submitted})
print("cancelled each once", sorted(provider.cancelled) == sorted(provider.submitted))
print("no secret in the commands", not any(re.search("[0-9a-f]{64}", command) for command in provider.commands))
print("jobs", " ".join(provider.submitted))
