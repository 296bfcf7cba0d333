# A walltime too long for any clock (infinity, 1e300, 10**30, 1e12 s: past ~292 years) is no walltime,
# as in Parsl, whose timer thread fails on it with OverflowError and lets the app run to its end.
from parsl.app.app import bash_app, python_app


@python_app
def quick(x):
    return x * 2


@bash_app
def succeed():
    return "true"


for walltime in (float("inf"), 1e300, 10**30, 1e12):
    assert quick(21, walltime=walltime).result(timeout=60) == 42, walltime
    assert succeed(walltime=walltime).result(timeout=60) == 0, walltime
print("ok unbounded walltimes")
