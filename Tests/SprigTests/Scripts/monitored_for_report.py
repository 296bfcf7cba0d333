"""A monitored run on the process executor, for `sprig report`: eight squares, one app that
fails after a retry, and one task that fails because of it."""
import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.monitoring import MonitoringHub
from parsl.providers import LocalProvider


@python_app
def square(x):
    return x * x


@python_app
def explode(x):
    raise ValueError(f"no good: {x}")


@python_app
def total(values):
    return sum(values)


config = Config(executors=[HighThroughputExecutor(label="htex", max_workers_per_node=2,
                                                  provider=LocalProvider(init_blocks=1, max_blocks=1))],
                retries=1, strategy="none", monitoring=MonitoringHub(resource_monitoring_interval=1))
with parsl.load(config):
    squares = [square(i) for i in range(8)]
    print(total(squares).result())
    bad = explode(1)
    after = total([bad])
    print(type(after.exception()).__name__)
