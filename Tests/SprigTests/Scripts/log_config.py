"""A run under a log config of Python's: FileLogging writes parsl.log in the script's format, with
the engine's lines in it; JSONLogging writes parsl.jsonlog; False and NoopLogging write no log."""

import json
import os
import sys

import parsl
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor
from parsl.logconfigs.file import FileLogging
from parsl.logconfigs.json import JSONLogging
from parsl.logconfigs.noop import NoopLogging


@parsl.python_app
def twice(x):
    return 2 * x


def run(initialize_logging):
    with parsl.load(Config(executors=[ThreadPoolExecutor(label="t")], run_dir="runs",
                           initialize_logging=initialize_logging)) as dfk:
        assert twice(21).result() == 42
        return dfk.run_dir


folder = run(FileLogging(format_string="TOKEN %(name)s %(message)s"))
with open(os.path.join(folder, "parsl.log")) as log:
    lines = log.read().splitlines()
print(all(line.startswith("TOKEN ") for line in lines), len(lines) > 0)
print(any(line.startswith("TOKEN parsl.sprig task 0 ended: ok") for line in lines))
print(any("Summary of tasks in DFK:" in line for line in lines))

folder = run(JSONLogging())
with open(os.path.join(folder, "parsl.jsonlog")) as log:
    records = [json.loads(line) for line in log]
print(any(r["name"] == "parsl.sprig" and r["msg"].startswith("task 0 ended: ok") for r in records),
      os.path.exists(os.path.join(folder, "parsl.log")))

for quiet in (False, NoopLogging()):
    folder = run(quiet)
    print(sorted(n for n in os.listdir(folder) if "log" in n))
sys.stdout.flush()
