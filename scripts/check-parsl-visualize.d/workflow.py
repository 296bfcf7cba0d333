# A small monitored workflow for scripts/check-parsl-visualize: two apps, dependencies, a retried
# failure, on the process executor (so blocks and nodes are recorded too).
import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.monitoring import MonitoringHub
from parsl.providers import LocalProvider


@parsl.python_app
def square(x):
    return x * x


@parsl.python_app
def total(inputs=()):
    return sum(inputs)


@parsl.python_app
def fails():
    raise ValueError("on purpose")


config = Config(executors=[HighThroughputExecutor(label="htex", max_workers_per_node=2,
                                                  provider=LocalProvider(init_blocks=1, max_blocks=1))],
                retries=1, monitoring=MonitoringHub(logging_endpoint="sqlite:///monitoring.db",
                                                    resource_monitoring_interval=1))
with parsl.load(config):
    squares = [square(i) for i in range(10)]
    assert total(inputs=squares).result() == sum(i * i for i in range(10))
    assert isinstance(fails().exception(), ValueError)
print("workflow done")
