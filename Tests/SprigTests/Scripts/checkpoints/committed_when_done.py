"""In task_exit mode a cached call's result is in the checkpoint store by the time its future is
done: a done callback of every future looks its key up in the store (a second SQLite connection,
as a rerun after a kill -9 would open it) and counts those it does not find.

    sprig run committed_when_done.py FOLDER N
"""

import os
import sqlite3
import sys
import threading

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.dataflow.memoization import BasicMemoizer
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider


@python_app(cache=True)
def square(i):
    return i * i


folder, count = sys.argv[1], int(sys.argv[2])
config = Config(
    executors=[HighThroughputExecutor(label="htex", max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1))],
    run_dir=os.path.join(folder, "runinfo"),
    memoizer=BasicMemoizer(checkpoint_mode="task_exit"),
)
lock = threading.Lock()
missing = []
checked = []

with parsl.load(config) as dfk:
    store = os.path.join(dfk.run_dir, "checkpoint", "cache.db")

    def look_up(future):
        key = future.task_record["hashsum"]
        connection = sqlite3.connect(f"file:{store}?mode=ro", uri=True) if os.path.exists(store) else None
        found = connection is not None and connection.execute("SELECT 1 FROM entry WHERE key = ?", (key,)).fetchone() is not None
        if connection is not None:
            connection.close()
        with lock:
            checked.append(key)
            if not found:
                missing.append(future.task_record["id"])

    futures = [square(i) for i in range(count)]
    for future in futures:
        future.add_done_callback(look_up)
    total = sum(future.result() for future in futures)
print("checked", len(checked), "missing", len(missing), "total", total)
