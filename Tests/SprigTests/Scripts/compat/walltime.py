# walltime= from Python: ints and floats are seconds; an app past its walltime fails with AppTimeout.
import time

from parsl.app.app import bash_app, python_app
from parsl.app.errors import AppTimeout


@python_app
def quick(x):
    return x * 2


@python_app
def spin(seconds):
    import time
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "finished"


@bash_app
def nap(seconds):
    return f"sleep {seconds}"


for walltime in (0.5, 1, 1.0, 30):
    assert quick(21, walltime=walltime).result() == 42, walltime
print("ok values")
try:
    spin(5, walltime=0.2).result()
except AppTimeout as e:
    print("ok python timeout", type(e).__name__)
try:
    nap(5, walltime=0.2).result()
except AppTimeout as e:
    print("ok bash timeout", type(e).__name__)
for bad in (0, -1, "1"):
    try:
        quick(1, walltime=bad).result()
    except Exception as e:
        assert "walltime" in str(e), e
print("ok bad values refused")
