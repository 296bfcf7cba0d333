# A Parsl Slurm configuration, unchanged: one HighThroughputExecutor fed by a SlurmProvider whose
# jobs' managers connect back to `address`. The address comes from the environment here so that the
# same script runs against the project's test cluster (scripts/testbed/slurm/up.sh; its env.sh sets
# SLURM_CONF and SPRIG_SLURM_SUBMIT_ADDR).
import os

import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.launchers import SrunLauncher
from parsl.providers import SlurmProvider

config = Config(
    executors=[
        HighThroughputExecutor(
            label='slurm_htex',
            address=os.environ.get('SPRIG_SLURM_SUBMIT_ADDR', '127.0.0.1'),
            max_workers_per_node=2,
            provider=SlurmProvider(
                partition='debug',
                nodes_per_block=1,
                init_blocks=1,
                max_blocks=1,
                walltime='00:05:00',
                exclusive=False,
                # Command to be run before starting a worker, such as:
                # 'module load Anaconda; source activate parsl_env'.
                worker_init='',
                launcher=SrunLauncher(),
            ),
        )
    ],
)


@python_app
def square(x):
    return x * x


with parsl.load(config):
    print(sum(f.result() for f in [square(i) for i in range(10)]))
