# Parsl's default prefetch_capacity=0, written out, on the process executor.
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

parsl.load(Config(executors=[HighThroughputExecutor(label="htex", max_workers_per_node=2, prefetch_capacity=0,
                                                    provider=LocalProvider(init_blocks=1, max_blocks=1))]))


@python_app
def square(x):
    return x * x


print("squares", sum(f.result() for f in [square(i) for i in range(50)]))
parsl.dfk().cleanup()
