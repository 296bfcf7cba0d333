"""The Parsl-compatible package (python/sprig/compat/parsl): found only when its folder is on
sys.path, as ``sprig run`` puts it; Parsl's import lines give Sprig's objects."""

from __future__ import annotations

import os
import time
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sprig
from sprig import api, config, errors, futures
from sprig.files import File

PYTHON_DIR = Path(__file__).resolve().parents[1]
COMPAT_DIR = PYTHON_DIR / "sprig" / "compat"

# The import lines of the article, as a script would have them.
ARTICLE_LINES = textwrap.dedent("""
    import parsl
    from parsl.app.app import python_app, bash_app
    from parsl.configs.local_threads import config
    from parsl.config import Config
    from parsl.executors.threads import ThreadPoolExecutor
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import LocalProvider
    from parsl.channels import LocalChannel
    print(parsl.__version__)
""")


@pytest.fixture
def parsl(monkeypatch):
    """The compat ``parsl`` package, imported fresh; every ``parsl`` module is forgotten afterwards."""
    for name in [n for n in sys.modules if n == "parsl" or n.startswith("parsl.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(COMPAT_DIR))
    import parsl as module

    yield module
    for name in [n for n in sys.modules if n == "parsl" or n.startswith("parsl.")]:
        del sys.modules[name]


def run_python(code: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env,
                          cwd=str(PYTHON_DIR))


def test_the_article_import_lines_run():
    run = run_python(ARTICLE_LINES, PYTHON_DIR, COMPAT_DIR)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"{sprig.__version__}+sprig"
    assert run.stderr == ""


def test_version_is_clearly_sprigs(parsl):
    assert parsl.__version__ == f"{sprig.__version__}+sprig"
    from parsl.version import VERSION

    assert VERSION == parsl.__version__


def test_top_level_names_are_sprigs(parsl):
    assert parsl.load is api.load and parsl.clear is api.clear and parsl.dfk is api.dfk
    assert parsl.wait_for_current_tasks is api.wait_for_current_tasks
    assert parsl.python_app is api.python_app and parsl.bash_app is api.bash_app and parsl.join_app is api.join_app
    assert parsl.File is File and parsl.Config is config.Config
    assert parsl.ThreadPoolExecutor is config.ThreadPoolExecutor
    assert parsl.HighThroughputExecutor is config.HighThroughputExecutor
    assert parsl.DataFlowKernel is api.DataFlowKernel
    assert callable(parsl.set_stream_logger) and callable(parsl.set_file_logger)
    assert parsl.AUTO_LOGNAME == -1  # Parsl's value: stdout=/stderr= files per task
    # Submodules are attributes after `import parsl`, as in Parsl.
    assert parsl.app.app.python_app is api.python_app
    assert parsl.config.Config is config.Config


def test_modules_and_their_names(parsl):
    from parsl.addresses import address_by_hostname, address_by_interface, address_by_query, address_by_route
    from parsl.app.app import bash_app, join_app, python_app
    from parsl.app.errors import AppTimeout, BadStdStreamFile, BashExitFailure, MissingOutputs
    from parsl.app.futures import DataFuture
    from parsl.channels import LocalChannel
    from parsl.config import Config
    from parsl.configs.htex_local import config as htex
    from parsl.configs.local_threads import config as threads
    from parsl.data_provider.files import File as ParslFile
    from parsl.dataflow.dflow import DataFlowKernelLoader
    from parsl.dataflow.errors import DependencyError, JoinError
    from parsl.dataflow.futures import AppFuture
    from parsl.errors import ConfigurationError, NoDataFlowKernelError, ParslError
    from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
    from parsl.executors.high_throughput.executor import HighThroughputExecutor as HTEX2
    from parsl.executors.threads import ThreadPoolExecutor as TPE2
    from parsl.launchers import SingleNodeLauncher
    from parsl.providers import LocalProvider
    from parsl.providers.local.local import LocalProvider as LP2
    from parsl.usage_tracking.levels import LEVEL_1

    assert (python_app, bash_app, join_app) == (api.python_app, api.bash_app, api.join_app)
    assert (AppTimeout, BadStdStreamFile, BashExitFailure, MissingOutputs) == (
        errors.AppTimeout, errors.BadStdStreamFile, errors.BashExitFailure, errors.MissingOutputs)
    assert (DependencyError, JoinError) == (errors.DependencyError, errors.JoinError)
    assert (ParslError, ConfigurationError, NoDataFlowKernelError) == (
        errors.SprigError, errors.ConfigurationError, errors.NoConfigLoadedError)
    assert (AppFuture, DataFuture) == (futures.AppFuture, futures.DataFuture)
    assert Config is config.Config and ParslFile is File
    assert HighThroughputExecutor is HTEX2 is config.HighThroughputExecutor
    assert ThreadPoolExecutor is TPE2 is config.ThreadPoolExecutor
    assert LocalProvider is LP2 is config.LocalProvider and LocalChannel is config.LocalChannel
    assert threads.to_spec() == config.local_threads().to_spec()
    assert htex.to_spec() == config.htex_local().to_spec()
    assert DataFlowKernelLoader.load is api.load
    assert isinstance(SingleNodeLauncher(), config.SingleNodeLauncher)
    assert address_by_route() == address_by_query() == address_by_interface("eth0") == "127.0.0.1"
    assert isinstance(address_by_hostname(), str)
    # Parsl's own htex_local shape, written as Parsl's file writes it.
    Config(executors=[HighThroughputExecutor(label="htex_local", cores_per_worker=1,
                                             provider=LocalProvider(init_blocks=1, max_blocks=1))],
           usage_tracking=LEVEL_1)


def test_parsl_errors_are_catchable_by_parsl_names(parsl):
    from parsl.app.errors import BashExitFailure
    from parsl.errors import ParslError

    exc = errors.exception_from_failure({"kind": "bash_exit", "task_id": 1, "app": "echo", "message": "m",
                                         "exit_code": 3})
    assert isinstance(exc, BashExitFailure) and isinstance(exc, ParslError)


def test_stream_logger_adds_and_removes_a_handler(parsl):
    import io
    import logging

    stream = io.StringIO()
    remove = parsl.set_stream_logger(name="parsl.test", level=logging.INFO, stream=stream)
    logging.getLogger("parsl.test").info("hello")
    remove()
    logging.getLogger("parsl.test").info("gone")
    assert "hello" in stream.getvalue() and "gone" not in stream.getvalue()


def test_file_logger(parsl, tmp_path):
    import logging

    path = tmp_path / "parsl.log"
    remove = parsl.set_file_logger(str(path), name="parsl.filetest", level=logging.INFO)
    logging.getLogger("parsl.filetest").info("to the file")
    remove()
    assert "to the file" in path.read_text()


def test_apps_from_parsl_need_sprig_run(parsl):
    @parsl.python_app
    def f():
        return 1

    with pytest.raises(RuntimeError, match="sprig run"):
        f()


def test_nothing_outside_compat_is_named_parsl():
    offenders = []
    for path in PYTHON_DIR.rglob("*"):
        if COMPAT_DIR in path.parents or path == COMPAT_DIR:
            continue
        if path.name == "parsl" or path.name.startswith("parsl."):
            offenders.append(path)
    assert offenders == []


def test_without_the_compat_folder_parsl_is_not_ours():
    code = textwrap.dedent("""
        import importlib.util
        spec = importlib.util.find_spec("parsl")
        print("none" if spec is None else spec.origin)
    """)
    run = run_python(code, PYTHON_DIR, PYTHON_DIR / "tests")
    assert run.returncode == 0, run.stderr
    origin = run.stdout.strip()
    assert origin == "none" or not origin.startswith(str(PYTHON_DIR))


def test_importing_parsl_is_cheap():
    code = textwrap.dedent("""
        import sys, time
        start = time.perf_counter()
        import parsl
        from parsl.configs.htex_local import config
        elapsed = time.perf_counter() - start
        heavy = [m for m in ("asyncio", "concurrent.futures.thread", "concurrent.futures.process",
                             "multiprocessing", "socket", "inspect", "typing", "pickle", "difflib")
                 if m in sys.modules]
        print(heavy, elapsed)
    """)
    run = run_python(code, PYTHON_DIR, COMPAT_DIR)
    assert run.returncode == 0, run.stderr
    heavy, _elapsed = run.stdout.rsplit("]", 1)
    assert heavy + "]" == "[]"


# MARK: LocalProvider's submit/status/cancel, called directly (Parsl's provider interface)


def _wait_terminal(provider, job_id, timeout=30.0):
    deadline = time.monotonic() + timeout
    status = provider.status([job_id])[0]
    while not status.terminal and time.monotonic() < deadline:
        time.sleep(0.02)  # polling a job's state, as Parsl's own callers do; not synchronising threads
        status = provider.status([job_id])[0]
    return status


def test_a_local_job_runs_through_the_launcher_and_reports_its_exit_and_output(parsl, tmp_path):
    from parsl.launchers import SingleNodeLauncher
    from parsl.providers import LocalProvider

    provider = LocalProvider(launcher=SingleNodeLauncher(debug=False))
    provider.script_dir = str(tmp_path)
    done = _wait_terminal(provider, provider.submit("/bin/echo -n out; /bin/echo -n err 1>&2", 1))
    assert (done.state.name, done.exit_code, done.stdout, done.stderr) == ("COMPLETED", 0, "out", "err")
    failed = _wait_terminal(provider, provider.submit("exit 3", 2))
    assert failed.state.name == "FAILED" and failed.exit_code != 0
    assert any(name.endswith(".sh") for name in os.listdir(tmp_path))


def test_cancelling_a_local_job_ends_its_process_group_and_an_unknown_id_is_missing(parsl, tmp_path):
    from parsl.providers import LocalProvider

    provider = LocalProvider()
    provider.script_dir = str(tmp_path)
    job_id = provider.submit("sleep 60 & sleep 60; wait", 1)
    assert provider.status([job_id])[0].state.name == "RUNNING"
    assert provider.cancel([job_id]) == [True]
    assert provider.status([job_id])[0].state.name == "CANCELLED"
    from sprig.local_jobs import group_alive

    assert not group_alive(int(job_id)), "a process of the cancelled job's group is still running"
    missing = provider.status(["12345678"])[0]
    assert missing.state.name == "MISSING" and "not started by this provider" in missing.message
    assert provider.cancel(["12345678"]) == [False]
