# Cleanup waits for a join app and for a task on a plain Future that end while it waits.
import concurrent.futures
import threading

import parsl
from parsl.app.app import join_app, python_app
from parsl.config import Config

parsl.load(Config())
gate = threading.Event()
plain = concurrent.futures.Future()


@python_app
def wait_for_gate():
    gate.wait(30)
    return 1


@python_app
def double(x):
    return 2 * x


@join_app
def joined():
    return wait_for_gate()


j = joined()
d = double(plain)
threading.Timer(0.2, lambda: (gate.set(), plain.set_result(21))).start()
parsl.dfk().cleanup()  # hung here before: settlements during cleanup found no kernel
print("after cleanup", j.result(timeout=5), d.result(timeout=5))
