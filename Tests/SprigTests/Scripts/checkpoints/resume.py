"""A workflow of 2 x N cached tasks that resumes from every earlier run of its run directory.

    sprig run resume.py FOLDER N

Each execution of an app leaves one file in FOLDER/side (named by the task's argument, the app and
a fresh id), so a test counts how often each call ran over several runs, killed or not; each future
that completes leaves FOLDER/done/<its cache key>, so a test checks that what had finished when the
run was killed is in the store. The answer (the sum of (i*i + 1)) goes to FOLDER/answer.txt when
the run ends.
"""

import os
import sys
import time
import uuid

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.dataflow.memoization import BasicMemoizer
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

folder, count = sys.argv[1], int(sys.argv[2])
side = os.path.join(folder, "side")
os.makedirs(side, exist_ok=True)
done = os.path.join(folder, "done")
os.makedirs(done, exist_ok=True)


def mark_done(future):
    if future.exception() is None:
        open(os.path.join(done, future.task_record["hashsum"]), "w").close()


@python_app(cache=True)
def square(i, side):
    import os, time, uuid
    time.sleep(0.01)  # (the work; the test's kills do not wait on it)
    open(os.path.join(side, f"square-{i}-{uuid.uuid4().hex}"), "w").close()
    return i * i


@python_app(cache=True)
def plus_one(value, i, side):
    import os, time, uuid
    time.sleep(0.01)
    open(os.path.join(side, f"plus_one-{i}-{uuid.uuid4().hex}"), "w").close()
    return value + 1


config = Config(
    executors=[HighThroughputExecutor(label="htex", max_workers_per_node=2, provider=LocalProvider(init_blocks=1, max_blocks=1))],
    run_dir=os.path.join(folder, "runinfo"),
    memoizer=BasicMemoizer(checkpoint_mode="task_exit"),
)
with parsl.load(config):
    squares = [square(i, side) for i in range(count)]
    results = [plus_one(s, i, side) for i, s in enumerate(squares)]
    for future in squares + results:
        future.add_done_callback(mark_done)
    answer = sum(f.result() for f in results)
with open(os.path.join(folder, "answer.txt"), "w") as out:
    out.write(f"{answer}\n")
print("answer", answer)
