"""cache="code": an edited app runs again, an unchanged one does not.

    sprig run code_aware.py FOLDER VERSION

VERSION 1 and 2 differ in the body of `edited` only; each execution leaves a file in FOLDER/side.
"""

import os
import sys

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.dataflow.memoization import BasicMemoizer
from parsl.executors.threads import ThreadPoolExecutor

folder, version = sys.argv[1], sys.argv[2]
side = os.path.join(folder, "side")
os.makedirs(side, exist_ok=True)

if version == "1":
    @python_app(cache="code")
    def edited(x, side):
        import os, uuid
        open(os.path.join(side, f"edited-{uuid.uuid4().hex}"), "w").close()
        return x + 1
else:
    @python_app(cache="code")
    def edited(x, side):
        import os, uuid
        open(os.path.join(side, f"edited-{uuid.uuid4().hex}"), "w").close()
        return x + 2


@python_app(cache="code")
def unchanged(x, side):
    import os, uuid
    open(os.path.join(side, f"unchanged-{uuid.uuid4().hex}"), "w").close()
    return x * 10


@python_app(cache=True)
def by_name(x, side):
    import os, uuid
    open(os.path.join(side, f"by_name-{uuid.uuid4().hex}"), "w").close()
    return x


class NoRule:
    pass


config = Config(executors=[ThreadPoolExecutor(label="threads")], run_dir=os.path.join(folder, "runinfo"),
                memoizer=BasicMemoizer(checkpoint_mode="dfk_exit"))
with parsl.load(config):
    print("edited", edited(1, side).result(), "unchanged", unchanged(1, side).result(), "by_name", by_name(1, side).result())
    bad = by_name(NoRule(), side)
    others = [by_name(i, side) for i in range(2, 5)]
    print("bad", type(bad.exception()).__name__, str(bad.exception()).splitlines()[0])
    print("others", [f.result() for f in others])
