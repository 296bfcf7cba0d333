"""A retried task and a handled failure print nothing on stderr; set_file_logger gets the
engine's lines; the run's parsl.log has every task; an unhandled failure ends the script as
Python shows it (argv[1]: "raise" to end with the unhandled failure)."""
import os
import sys

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors.threads import ThreadPoolExecutor

parsl.set_file_logger("mine.log", level=20)


@python_app
def flaky(path):
    with open(path, "a") as f:
        f.write("ran\n")
    with open(path) as f:
        if len(f.readlines()) < 2:
            raise RuntimeError("first run fails")
    return "ok"


@python_app
def broken():
    raise ValueError("never works")


with parsl.load(Config(executors=[ThreadPoolExecutor(label="t")], retries=1)):
    print(flaky("marker").result())
    try:
        broken().result()
    except ValueError as e:
        print("handled", e)
    run_dir = parsl.dfk().run_dir
    if sys.argv[1:] == ["raise"]:
        broken().result()
print(os.path.isfile(os.path.join(run_dir, "parsl.log")))
