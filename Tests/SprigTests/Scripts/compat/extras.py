# Parsl behaviour beyond apps: cancel, lifted futures, retry_handler, AUTO_LOGNAME, dfk().tasks.
import os
import re
import sys
import threading

import parsl
from parsl.app.app import bash_app, python_app
from parsl.config import Config
from parsl.dataflow.errors import DependencyError
from parsl.dataflow.states import States
from parsl.executors import ThreadPoolExecutor

folder = sys.argv[1]
os.chdir(folder)
costs = []


def half(exc, task_record):
    costs.append((type(exc).__name__, task_record["fail_count"]))
    return 0.5


config = Config(executors=[ThreadPoolExecutor(max_threads=1)])
config.retries = 2
config.retry_handler = half  # set after the config is made, as Parsl's tests do
dfk = parsl.load(config)
gate = threading.Event()
running = threading.Event()


@python_app
def blocked():
    running.set()
    gate.wait(30)
    return {"key": [10, 20], "n": 5}


@python_app
def plus_one(x):
    return x + 1


@bash_app
def fails_until(path, succeed_on):
    return f'echo x >> {path}; [ "$(wc -l < {path})" -ge {succeed_on} ]'


@bash_app
def hello(stdout=parsl.AUTO_LOGNAME, stderr=parsl.AUTO_LOGNAME, label=None):
    return "echo hello; echo goodbye >&2"


first = blocked()
queued = plus_one(1)       # waits for the one thread: not started
waiting = plus_one(first)  # waits for its dependency
dependent = plus_one(queued)
assert first.tid in dfk.tasks and dfk.tasks[first.tid]["status"] == States.pending
assert waiting.cancel() is True and waiting.cancelled()
assert queued.cancel() is True and queued.cancelled()
try:
    dependent.result(timeout=20)
except DependencyError:
    assert running.wait(20)  # (the app says it runs: only then is cancel() to refuse)
    print("ok cancel", first.cancel() is False)
item = first["key"][1]
attribute = first.get  # a bound method of the dict, lifted
gate.set()
assert first.result() == {"key": [10, 20], "n": 5}
assert item.result(timeout=20) == 20 and attribute.result(timeout=20)("n") == 5
print("ok lifted")
assert fails_until(f"{folder}/tries", 5).result(timeout=60) == 0  # costs 0.5, 1.0, 1.5, 2.0: a 5th try
assert [c for _, c in costs] == [1, 2, 3, 4], costs
print("ok retry_handler", costs[0][0])
h = hello(label="greeting")
assert h.result(timeout=20) == 0
assert re.match(r".*/task_\d+_hello_greeting\.stdout$", h.stdout), h.stdout
with open(h.stdout) as f, open(h.stderr) as g:
    print("ok auto logname", f.read().strip(), g.read().strip())
assert first.tid not in dfk.tasks and first.task_record["status"] == States.exec_done
dfk.cleanup()
print("ok cleanup_called", dfk.cleanup_called)
