# Keeps apps running until interrupted.
import parsl
from parsl.app.app import python_app

parsl.load(None)


@python_app
def wait_long():
    import time
    time.sleep(600)


futures = [wait_long() for _ in range(2)]
print("started", flush=True)
futures[0].result()
