# Config numbers past what a clock or an Int holds mean "no limit": times of 1e300 s (never idle
# long enough to scale in, never silent long enough to be lost, never old enough to drain), and a
# memory per worker so small that the node's memory holds more workers than an Int counts.
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

parsl.load(Config(executors=[HighThroughputExecutor(label="huge", max_workers_per_node=1, heartbeat_threshold=1e300,
                                                    drain_period=1e300, mem_per_worker=1e-300,
                                                    provider=LocalProvider(init_blocks=1, max_blocks=1))],
                  max_idletime=1e300))


@python_app
def quick(x):
    return x * 2


print("ok huge numbers", quick(21).result(timeout=60))
