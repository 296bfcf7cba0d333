# The seed article's local_htex configuration, unchanged: one HighThroughputExecutor block from a
# LocalProvider, one core per worker, no scaling strategy; multiply(5, 9) and five generate apps.
import parsl
from parsl.app.app import python_app
from parsl.channels import LocalChannel
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

local_htex = Config(
    executors=[
        HighThroughputExecutor(
            label="htex_Local",
            worker_debug=True,
            cores_per_worker=1,
            provider=LocalProvider(
                channel=LocalChannel(),
                init_blocks=1,
                max_blocks=1,
            ),
        )
    ],
    strategy=None,
)
parsl.load(local_htex)


@python_app
def multiply(a, b):
    return a * b


@python_app
def generate(limit, delay):
    from random import randint
    import time
    time.sleep(delay)
    return randint(1, limit)


print(multiply(5, 9).result())
print([f.result() for f in [generate(10, i) for i in range(5)]])
