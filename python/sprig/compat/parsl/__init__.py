"""Parsl's API, served by Sprig (the ``parsl`` that ``sprig run`` scripts import).

``import parsl`` here gives Parsl's names backed by Sprig: ``parsl.load``, ``parsl.python_app``,
``parsl.Config``, ... — see ``python/sprig/compat/README.md``. ``parsl.__version__`` is Sprig's
version with ``+sprig`` appended.
"""

from sprig.api import DataFlowKernel, bash_app, clear, dfk, join_app, load, python_app, wait_for_current_tasks
from sprig.config import Config, HighThroughputExecutor, ThreadPoolExecutor
from sprig.files import File

#: Marks this package as Sprig's (the unsupported-module finder acts only while it is ``parsl``).
__sprig_compat__ = True

from parsl import _unsupported  # noqa: E402

_unsupported.install()

# Submodules are attributes of the package after `import parsl`, as in Parsl.
import parsl.addresses  # noqa: F401
import parsl.app.app
import parsl.app.bash
import parsl.app.errors
import parsl.app.futures
import parsl.app.python
import parsl.channels
import parsl.config
import parsl.data_provider.files
import parsl.dataflow.dependency_resolvers
import parsl.dataflow.dflow
import parsl.dataflow.errors
import parsl.dataflow.futures
import parsl.dataflow.states
import parsl.errors
import parsl.executors
import parsl.executors.base
import parsl.executors.errors
import parsl.executors.high_throughput.errors
import parsl.executors.high_throughput.executor
import parsl.executors.threads
import parsl.jobs.states
import parsl.launchers
import parsl.providers
import parsl.serialize
import parsl.utils  # noqa: F401
from parsl.log_utils import set_file_logger, set_stream_logger
from parsl.monitoring import MonitoringHub
from parsl.version import VERSION

__author__ = "The Sprig project (Parsl-compatible API)"
__version__ = VERSION

from sprig.api import AUTO_LOGNAME  # noqa: E402  (-1, as in Parsl)

__all__ = [
    "AUTO_LOGNAME", "bash_app", "python_app", "join_app",
    "Config", "DataFlowKernel", "File",
    "set_stream_logger", "set_file_logger",
    "ThreadPoolExecutor", "HighThroughputExecutor", "MonitoringHub",
    "load", "clear", "dfk", "wait_for_current_tasks",
]


def __getattr__(name: str) -> object:
    raise _unsupported.attribute_error("parsl", name)

