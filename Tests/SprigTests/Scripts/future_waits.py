# Waiting on futures: result() and exception() wait in the engine (no condition made), with
# timeouts, from several threads at once, with done callbacks, cancellation and output files.
import concurrent.futures
import sys
import threading
import time

import parsl
from parsl.app.app import python_app
from parsl.data_provider.files import File

parsl.load(None)


@python_app
def slow(value, delay):
    import time
    time.sleep(delay)
    return value


@python_app
def fails(delay):
    import time
    time.sleep(delay)
    raise KeyError("gone")


@python_app
def after(value):
    return value


@python_app
def write(path, delay, outputs=()):
    import time
    time.sleep(delay)
    with open(outputs[0], "w") as handle:
        handle.write("written")
    return path


waited = slow(7, 0.2)
print("waited", waited.result(), "_sprig_condition" not in waited.__dict__, waited.done())

pending = slow(8, 1.0)
started = time.monotonic()
try:
    pending.result(timeout=0.05)
    print("timeout none")
except concurrent.futures.TimeoutError:
    print("timeout", time.monotonic() - started < 0.9, pending.done())
try:
    pending.exception(timeout=0.05)
except concurrent.futures.TimeoutError:
    print("exception timeout", not pending.done())
print("after timeout", pending.result(timeout=30))

failing = fails(0.2)
print("exception()", type(failing.exception()).__name__)
try:
    fails(0.1).result()
except KeyError as error:
    print("raised", type(error).__name__, error.args)

# Several threads waiting for one future all get its value.
shared = slow("shared", 0.3)
got = []
threads = [threading.Thread(target=lambda: got.append(shared.result(timeout=30))) for _ in range(3)]
for thread in threads:
    thread.start()
got.append(shared.result(timeout=30))
for thread in threads:
    thread.join(30)
print("threads", got == ["shared"] * 4)

# A future with done callbacks completes on the callback thread; its callbacks run there, in order.
called = []
with_callbacks = slow(1, 0.2)
for number in range(3):
    with_callbacks.add_done_callback(lambda f, n=number: called.append((n, threading.get_ident())))
with_callbacks.result(timeout=30)
deadline = time.monotonic() + 30
while len(called) < 3 and time.monotonic() < deadline:
    time.sleep(0.01)
print("callbacks", [n for n, _ in called], all(ident != threading.get_ident() for _, ident in called))

# A waiting thread sees a cancellation the main thread makes; cancel() says it cancelled.
blocker = slow(0, 1.0)
dependent = after(blocker)
outcome = []


def wait_dependent():
    try:
        dependent.result(timeout=30)
        outcome.append("value")
    except concurrent.futures.CancelledError:
        outcome.append("cancelled")


waiter = threading.Thread(target=wait_dependent)
waiter.start()
deadline = time.monotonic() + 30
while time.monotonic() < deadline:  # until the waiter waits in the engine
    frame = sys._current_frames().get(waiter.ident)
    if frame is not None and frame.f_code.co_name == "_sprig_wait":
        break
    time.sleep(0.001)
print("waiting in the engine", frame is not None and frame.f_code.co_name == "_sprig_wait")
print("cancel", dependent.cancel(), dependent.cancelled())
waiter.join(30)
print("waiter", outcome)
blocker.result(timeout=30)

# An output file's future waits for the app that writes it.
target = File(sys.argv[1] + "/waited.txt")
writer = write("done", 0.2, outputs=[target])
print("data future", writer.outputs[0].result(timeout=30).filepath == target.filepath, writer.done())

# concurrent.futures.wait and as_completed still see futures completed the usual way.
batch = [slow(i, 0.05 * i) for i in range(4)]
done, not_done = concurrent.futures.wait(batch, timeout=30)
print("wait", len(done), len(not_done), sorted(f.result() for f in concurrent.futures.as_completed(batch, timeout=30)))

parsl.dfk().cleanup()
print("cleaned")
