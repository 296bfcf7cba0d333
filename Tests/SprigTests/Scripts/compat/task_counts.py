# Counts: a task waiting for a free thread is queued, not running.
import threading
import time

import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=1)]))
gate = threading.Event()


@python_app
def blocked():
    gate.wait(30)
    return 1


futures = [blocked() for _ in range(3)]
deadline = time.monotonic() + 20
counts = parsl.dfk().task_counts()
while counts["running"] != 1 and time.monotonic() < deadline:
    time.sleep(0.01)  # polling the counts, bounded; the app itself waits on the gate
    counts = parsl.dfk().task_counts()
print("counts", counts["running"], counts["queued"], counts["pending"])
gate.set()
print("results", [f.result() for f in futures])
print("end", parsl.dfk().task_counts())
