"""Failed tasks are remembered while their futures live (a dependent can name them) and
forgotten once the script drops them: a long run of failures does not grow the engine."""
import gc
import time

import _sprig_engine
import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor


@python_app
def fail(i):
    raise ValueError(f"task {i}")


@python_app
def after(x):
    return x


parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=2)]))
futures = [fail(i) for i in range(500)]
for future in futures:
    future.exception()
print("tracked while held:", len(_sprig_engine.tracked_tasks()) >= 500)
dependent = after(futures[7])
print("dependent names it:", f"task {futures[7].tid}" in [name for _, name in dependent.exception().dependent_exceptions_tids])
del futures, future, dependent
gc.collect()
# The engine's callback thread lets go of the last future a moment after the script sees it end.
deadline = time.monotonic() + 10
while _sprig_engine.tracked_tasks() and time.monotonic() < deadline:
    time.sleep(0.01)
print("tracked after drop:", len(_sprig_engine.tracked_tasks()))
parsl.dfk().cleanup()
