# A concurrent.futures.Future that no app made is a dependency too.
import concurrent.futures
import threading

from parsl.app.app import python_app
from parsl.dataflow.errors import DependencyError


@python_app
def double(x):
    return x * 2


waiting = concurrent.futures.Future()
result = double(waiting)
assert not result.done()
threading.Timer(0.05, waiting.set_result, (21,)).start()
assert result.result(timeout=20) == 42
done = concurrent.futures.Future()
done.set_result(5)
assert double(done).result(timeout=20) == 10
with concurrent.futures.ThreadPoolExecutor(1) as pool:
    assert double(pool.submit(pow, 2, 5)).result(timeout=20) == 64
failing = concurrent.futures.Future()
failing.set_exception(ValueError("no"))
dependent = double(failing)
try:
    dependent.result(timeout=20)
    raise AssertionError("a failed future's dependent ran")
except DependencyError as e:
    assert e.__cause__ is failing.exception(), repr(e.__cause__)
print("ok plain futures")
