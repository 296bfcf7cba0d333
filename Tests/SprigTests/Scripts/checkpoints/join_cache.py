"""@join_app(cache=True): a call equal to an earlier one gets the join app's final value without
running its function, within a run and, from the checkpoint, in a later run.

    sprig run join_cache.py FOLDER

Each run of a join app's function, and of the app it calls, leaves a file in FOLDER/side.
"""

import os
import sys

import parsl
from parsl import join_app, python_app
from parsl.config import Config
from parsl.dataflow.memoization import BasicMemoizer
from parsl.executors.threads import ThreadPoolExecutor

folder = sys.argv[1]
side = os.path.join(folder, "side")
os.makedirs(side, exist_ok=True)


@python_app
def const(x, side):
    import os, uuid
    open(os.path.join(side, f"const-{uuid.uuid4().hex}"), "w").close()
    return x


@join_app(cache=True)
def random_uuid(x, side):
    import os, uuid
    open(os.path.join(side, f"random_uuid-{uuid.uuid4().hex}"), "w").close()
    return const(f"{x}-{uuid.uuid4()}", side)


@python_app
def boom(x):
    raise ValueError(f"boom {x}")


@join_app(cache=True)
def fails_inside(x):
    return boom(x)


@join_app(cache=True)
def pair(x, side):
    import os, uuid
    open(os.path.join(side, f"pair-{uuid.uuid4().hex}"), "w").close()
    return [const(x, side), const(x + 1, side)]


config = Config(executors=[ThreadPoolExecutor(label="threads")], run_dir=os.path.join(folder, "runinfo"),
                memoizer=BasicMemoizer(checkpoint_mode="task_exit"))
with parsl.load(config):
    first = random_uuid(0, side)
    value = first.result()
    again = [random_uuid(0, side) for _ in range(2)]
    other = random_uuid(1, side)
    print("same", all(f.result() == value for f in again), "other differs", other.result() != value)
    print("value", value)
    pairs = [pair(5, side).result(), pair(5, side).result()]
    print("pair", pairs)
    failures = [fails_inside(1).exception() for _ in range(2)]
    print("failure", type(failures[0]).__name__, failures[0] is failures[1])
    print("from_memo", first.task_record["from_memo"], [f.task_record["from_memo"] for f in again], [f.task_status() for f in again],
          again[0].task_record["hashsum"] == first.task_record["hashsum"])
