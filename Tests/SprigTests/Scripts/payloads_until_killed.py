# A process-executor run with large payloads in flight that never ends by itself (the test kills it
# with SIGKILL): three 1 MiB echoes, then four 1 MiB tasks that sleep on two workers (the two
# taken are the workers' spare segments now; the two waiting, argument segments once sent). Each
# sleeper leaves "<worker pid> <manager pid>" in pids/; ready/ says the sleepers were submitted.
import os

import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

os.makedirs("pids", exist_ok=True)
parsl.load(Config(executors=[HighThroughputExecutor(label="htex", max_workers_per_node=2,
                                                    provider=LocalProvider(init_blocks=1, max_blocks=1))]))


@parsl.python_app
def echo(data):
    return data


@parsl.python_app
def sleep_holding(data):
    import os
    import time
    with open(f"pids/{os.getpid()}", "w") as note:
        note.write(f"{os.getpid()} {os.getppid()}\n")
    time.sleep(600)
    return len(data)


payload = bytes(range(256)) * 4096  # 1 MiB: large enough for segments
held = [echo(payload) for _ in range(3)]
assert all(f.result() == payload for f in held)
sleepers = [sleep_holding(payload) for _ in range(4)]
os.makedirs("ready", exist_ok=True)
sleepers[0].result()
