# Exercises the Python-facing futures: values, dependencies in containers, failures, join apps.
import sys
import threading

import parsl
from parsl.app.app import bash_app, join_app, python_app
from parsl.data_provider.files import File

parsl.load(None) if len(sys.argv) < 2 or sys.argv[1] != "--no-load" else None


@python_app
def add(a, b=0):
    return a + b


@python_app
def total(values, inputs=()):
    return sum(values) + sum(inputs)


@python_app
def describe(items, mapping):
    return [items, mapping]


@python_app
def divide(a, b):
    return a / b


@python_app
def write(text, outputs=()):
    with open(outputs[0], "w") as f:
        f.write(text)
    return outputs[0].filepath


@python_app
def read(f):
    with open(f) as handle:
        return handle.read()


@bash_app
def fail_with(code):
    return f"exit {code}"


@join_app
def fan(n):
    return [add(i, 1) for i in range(n)]


@join_app
def fan_one(x):
    return add(x, 100)


@join_app
def fan_broken():
    return [add(1, 1), divide(1, 0)]


a, b = add(1, 2), add(10, 20)
print("tid", isinstance(a.tid, int), b.tid == a.tid + 1)
print("result", a.result(timeout=30), b.result())
print("nested", describe([a, (b, 5)], {"k": a}).result())
print("inputs", total([a, b], inputs=[a]).result())
print("done", a.done(), a.exception() is None)

seen = threading.Event()
a.add_done_callback(lambda f: seen.set())
print("callback", seen.wait(10))

bad = divide(1, 0)
try:
    bad.result()
except ZeroDivisionError as error:
    print("original type", type(error).__name__)
print("exception()", type(bad.exception()).__name__)

dependent = add(bad, 1)
error = dependent.exception()
print("dependency", type(error).__name__, bad.tid in getattr(error, "dependent_exceptions_tids", []) or str(bad.tid) in str(error))

exit_error = fail_with(15).exception()
print("bash exit", type(exit_error).__name__, getattr(exit_error, "exitcode", None))

out = File(sys.argv[-1] + "/out.txt") if len(sys.argv) > 1 else File("out.txt")
written = write("payload", outputs=[out])
print("outputs", len(written.outputs), read(written.outputs[0]).result())

print("join list", fan(4).result())
print("join one", fan_one(1).result())
join_error = fan_broken().exception()
print("join failure", type(join_error).__name__)
parsl.dfk().cleanup()
print("cleaned")
