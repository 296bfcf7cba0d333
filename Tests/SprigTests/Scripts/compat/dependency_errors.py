# DependencyError holds the immediate failed dependencies and the root failure's own object.
from parsl.app.app import python_app
from parsl.dataflow.errors import DependencyError


class Boom(Exception):
    pass


@python_app
def maybe_fail(fail, inputs=()):
    if fail:
        raise Boom("app failure")


t1 = maybe_fail(True)
t2 = maybe_fail(False, inputs=[t1])
t3 = maybe_fail(False, inputs=[t2])
e3 = t3.exception()
assert isinstance(e3, DependencyError)
assert len(e3.dependent_exceptions_tids) == 1
assert e3.dependent_exceptions_tids[0][0] is t2.exception()
assert isinstance(e3.dependent_exceptions_tids[0][0], DependencyError)
assert e3.dependent_exceptions_tids[0][1].startswith("task ")
assert e3.__cause__ is t1.exception()
print("ok first")
m1 = maybe_fail(False)
m2 = maybe_fail(True, inputs=[m1])
m3 = maybe_fail(False, inputs=[m2])
e = m3.exception()
assert len(e.dependent_exceptions_tids) == 1 and e.dependent_exceptions_tids[0][0] is m2.exception()
assert isinstance(e.dependent_exceptions_tids[0][0], Boom) and e.__cause__ is m2.exception()
print("ok middle")
