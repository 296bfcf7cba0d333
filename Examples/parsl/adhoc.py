# The seed article's ad-hoc SSH cluster configuration, in its exact form: one
# HighThroughputExecutor fed by an AdHocProvider whose SSHChannels reach each host.
# Hosts, user and script dir come from the environment here so that the same script runs against
# the project's SSH test hosts (scripts/testbed/ssh/up.sh; SPRIG_SSH_CONFIG names their ssh config).
import os

import parsl
from parsl.app.app import python_app
from parsl.channels import SSHChannel
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import AdHocProvider

user_opts = {
    'adhoc': {
        'username': os.environ.get('SPRIG_SSH_USER', 'root'),
        'script_dir': os.environ.get('ADHOC_SCRIPT_DIR', '/tmp/sprig-adhoc'),
        'remote_hostnames': os.environ.get('SPRIG_SSH_HOSTS', 'hostA hostB hostC').split(),
    }
}

config = Config(
    executors=[
        HighThroughputExecutor(
            label='remote_htex',
            max_workers=2,
            worker_logdir_root=user_opts['adhoc']['script_dir'],
            provider=AdHocProvider(
                # Command to be run before starting a worker, such as:
                # 'module load Anaconda; source activate parsl_env'.
                worker_init='source /etc/profile; source ~/.profile',
                channels=[SSHChannel(hostname=m,
                                     username=user_opts['adhoc']['username'],
                                     script_dir=user_opts['adhoc']['script_dir'],
                ) for m in user_opts['adhoc']['remote_hostnames']]
            )
        )
    ],
    strategy=None,
)
parsl.load(config)


@python_app
def where(i):
    import socket
    import time
    time.sleep(0.2)
    return socket.gethostname()


hosts = [f.result() for f in [where(i) for i in range(12)]]
print(sorted(set(hosts)))
