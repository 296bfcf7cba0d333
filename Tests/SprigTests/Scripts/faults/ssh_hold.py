# A bash app holding a block on one SSH host until the run is interrupted. argv: host, script dir
import sys

import parsl
from parsl import bash_app
from parsl.channels import SSHChannel
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import AdHocProvider

host, script_dir = sys.argv[1], sys.argv[2]
parsl.load(Config(executors=[HighThroughputExecutor(
    max_workers=1, provider=AdHocProvider(channels=[SSHChannel(host, script_dir=script_dir)]))]))


@bash_app
def hold():
    return "sleep 100"


@bash_app
def quick():
    return "true"


quick().result(timeout=60)
running = hold()
print("started", flush=True)
running.result()
