"""Parsl's task record fields of caching: a cached call's future has its cache key (`hashsum`)
and whether the cache answered (`from_memo`, task state `memo_done`); a plain app's has none.

    sprig run memo_record.py FOLDER
"""

import os
import sys

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.dataflow.states import States
from parsl.executors.threads import ThreadPoolExecutor


@python_app(cache=True)
def plus_one(x):
    return x + 1


@python_app
def plain(x):
    return x


folder = sys.argv[1]
with parsl.load(Config(executors=[ThreadPoolExecutor(label="threads")], run_dir=os.path.join(folder, "runinfo"))):
    futures = []
    for x in (4, 4, 17):
        futures.append(plus_one(x))
        futures[-1].result()
    records = [f.task_record for f in futures]
    print("hashsums", records[0]["hashsum"] == records[1]["hashsum"], records[0]["hashsum"] != records[2]["hashsum"],
          all(isinstance(r["hashsum"], str) for r in records))
    print("from_memo", [r["from_memo"] for r in records], [f.task_status() for f in futures],
          [r["status"] is States.memo_done for r in records])
    p = plain(1)
    p.result()
    print("plain", p.task_record["memoize"], p.task_record["hashsum"], p.task_record["from_memo"], records[0]["memoize"])
    print("counts", parsl.dfk().task_state_counts[States.memo_done], parsl.dfk().task_state_counts[States.exec_done])
