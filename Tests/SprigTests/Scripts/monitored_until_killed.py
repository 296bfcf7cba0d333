# A monitored run on the process executor that never ends by itself: 30 quick tasks, each leaving
# its worker's pid in pids/, then two that sleep until the run is killed (SIGKILL, by the test).
import os

import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.monitoring import MonitoringHub
from parsl.providers import LocalProvider

os.makedirs("pids", exist_ok=True)
parsl.load(Config(executors=[HighThroughputExecutor(label="htex", max_workers_per_node=2,
                                                    provider=LocalProvider(init_blocks=1, max_blocks=1))],
                  monitoring=MonitoringHub(logging_endpoint="sqlite:///monitoring.db")))


@parsl.python_app
def leave_pid(i):
    import os
    open(f"pids/{os.getpid()}", "w").close()
    return i


@parsl.python_app
def sleep_forever():
    import os
    import time
    open(f"pids/{os.getpid()}", "w").close()
    time.sleep(600)


for future in [leave_pid(i) for i in range(30)]:
    future.result()
sleepers = [sleep_forever() for _ in range(2)]
sleepers[0].result()
