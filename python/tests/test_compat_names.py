"""The Parsl import names scripts copy from Parsl's docs: each is Sprig's behaviour, or one clear
ImportError line for what Sprig does not provide (python/sprig/compat/parsl)."""

from __future__ import annotations

import collections
import concurrent.futures
import importlib
import os
import pickle
import stat
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import pytest

from sprig import api, config, errors
from sprig.files import File

from conftest import needs_cloudpickle

PYTHON_DIR = Path(__file__).resolve().parents[1]
COMPAT_DIR = PYTHON_DIR / "sprig" / "compat"


def _forget_parsl() -> None:
    for name in [n for n in sys.modules if n == "parsl" or n.startswith("parsl.")]:
        del sys.modules[name]


@pytest.fixture
def parsl(monkeypatch):
    """The compat ``parsl`` package, imported fresh; afterwards every ``parsl`` module and the
    unsupported-module finder are gone again."""
    _forget_parsl()
    monkeypatch.syspath_prepend(str(COMPAT_DIR))
    import parsl as module

    yield module
    _forget_parsl()
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "sprig_compat_unsupported", False)]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PYTHON_DIR), str(COMPAT_DIR)]))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env,
                          cwd=str(PYTHON_DIR))


# MARK: modules and names


def test_new_modules_are_attributes_after_import_parsl(parsl):
    for dotted in ("app.python", "app.bash", "dataflow.states", "dataflow.dependency_resolvers",
                   "executors.base", "executors.errors", "executors.high_throughput.errors",
                   "launchers.launchers", "launchers.base", "serialize", "utils"):
        module = parsl
        for part in dotted.split("."):
            module = getattr(module, part)
        assert module.__name__ == f"parsl.{dotted}"


def test_app_classes_are_sprigs(parsl):
    from parsl.app.bash import BashApp
    from parsl.app.python import PythonApp

    assert PythonApp is api.PythonApp and BashApp is api.BashApp

    @parsl.python_app
    def double(x):
        return 2 * x

    @parsl.bash_app
    def echo():
        return "echo hi"

    assert isinstance(double, PythonApp) and isinstance(echo, BashApp)


def test_executor_base_class_covers_sprigs_executors(parsl):
    from parsl.executors import ParslExecutor as FromPackage
    from parsl.executors.base import ParslExecutor

    assert ParslExecutor is FromPackage is config.Executor
    assert isinstance(config.ThreadPoolExecutor(), ParslExecutor)
    assert isinstance(config.HighThroughputExecutor(), ParslExecutor)


def test_worker_and_manager_loss_are_the_classes_sprig_raises(parsl):
    from parsl.executors.high_throughput.errors import ManagerLost, WorkerLost

    assert WorkerLost is errors.WorkerLost and ManagerLost is errors.ManagerLost
    lost = errors.exception_from_failure({"kind": "worker_lost", "task_id": 3, "app": "f", "message": "gone"})
    assert isinstance(lost, WorkerLost)
    assert isinstance(errors.exception_from_failure({"kind": "manager_lost", "task_id": 4, "app": "f"}), ManagerLost)


def test_executor_errors(parsl):
    from parsl.executors.errors import BadStateException, ExecutorError, ScalingFailed

    assert ExecutorError is errors.ExecutorError
    executor = config.ThreadPoolExecutor(label="pool")
    bad = BadStateException(executor, RuntimeError("3 blocks failed"))
    assert isinstance(bad, ExecutorError) and isinstance(bad, errors.SprigError)
    assert (bad.executor, bad.reason) == (executor, "3 blocks failed")
    assert str(bad) == "executor pool is in a bad state: 3 blocks failed"
    scaling = ScalingFailed(executor, "no quota")
    assert isinstance(scaling, ExecutorError) and str(scaling) == "executor pool failed to scale: no quota"
    assert pickle.loads(pickle.dumps(scaling)).reason == "no quota"


def test_resource_specification_is_validated_as_parsl_does(parsl):
    from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
    from parsl.executors.errors import ExecutorError, InvalidResourceSpecification

    assert InvalidResourceSpecification is errors.InvalidResourceSpecification
    htex = HighThroughputExecutor(label="h")
    assert htex.validate_resource_spec({}) is None
    assert htex.validate_resource_spec({"priority": 2}) is None
    with pytest.raises(InvalidResourceSpecification) as caught:
        htex.validate_resource_spec({"num_nodes": 2, "priority": 1, "cores": 4})
    bad = caught.value
    assert isinstance(bad, ExecutorError) and bad.invalid_keys == {"num_nodes", "cores"}
    assert "'cores', 'num_nodes'" in str(bad) and "takes these resources only: priority" in str(bad)
    again = pickle.loads(pickle.dumps(bad))
    assert type(again) is InvalidResourceSpecification and again.invalid_keys == bad.invalid_keys
    threads = ThreadPoolExecutor(label="t")
    assert threads.validate_resource_spec({}) is None
    with pytest.raises(InvalidResourceSpecification, match="takes these resources only: none"):
        threads.validate_resource_spec({"priority": 1})
    # As the engine reports it in a failure dict.
    rebuilt = errors.exception_from_failure({"kind": "invalid_resource_spec", "task_id": 5, "app": "f",
                                             "invalid_keys": ["cores"], "reason": "htex"})
    assert isinstance(rebuilt, InvalidResourceSpecification) and rebuilt.invalid_keys == {"cores"}
    assert rebuilt.task_id == 5


def test_executor_submit_checks_the_resource_specification_first(parsl):
    from parsl.executors import HighThroughputExecutor
    from parsl.executors.errors import InvalidResourceSpecification

    htex = HighThroughputExecutor()
    with pytest.raises(InvalidResourceSpecification):
        htex.submit(pow, {"memory": 1}, 2, 3)
    # A valid one goes on to the engine, which is not here.
    with pytest.raises(errors.EngineNotAvailableError):
        htex.submit(pow, {"priority": 1}, 2, 3)


# MARK: names Sprig does not provide


def _unsupported_table(parsl):
    from parsl import _unsupported

    return _unsupported.UNSUPPORTED


REQUIRED_UNSUPPORTED = [
    "parsl.executors.WorkQueueExecutor", "parsl.executors.TaskVineExecutor", "parsl.executors.FluxExecutor",
    "parsl.executors.MPIExecutor",
    "parsl.providers.PBSProProvider", "parsl.providers.CondorProvider",
    "parsl.providers.KubernetesProvider", "parsl.providers.LSFProvider", "parsl.providers.GridEngineProvider",
    "parsl.providers.TorqueProvider", "parsl.providers.AWSProvider", "parsl.providers.GoogleCloudProvider",
    "parsl.data_provider.http", "parsl.data_provider.ftp", "parsl.data_provider.globus",
    "parsl.data_provider.rsync", "parsl.data_provider.zip",
]


def test_every_required_name_is_in_the_table(parsl):
    table = _unsupported_table(parsl)
    assert [n for n in REQUIRED_UNSUPPORTED if n not in table] == []
    for name, line in table.items():
        assert line.startswith(f"{name} is not ") and "Sprig" in line and "\n" not in line


def test_each_unsupported_name_raises_its_one_line(parsl):
    for name, line in _unsupported_table(parsl).items():
        module, attribute = name.rsplit(".", 1)
        if attribute[0].isupper():  # a class in a package: `from package import Name`
            with pytest.raises(ImportError) as raised:
                exec(f"from {module} import {attribute}", {})
        else:  # a module: `import parsl.x.y`
            with pytest.raises(ImportError) as raised:
                importlib.import_module(name)
        assert str(raised.value) == line, name
        assert raised.value.name == name
        assert not isinstance(raised.value, ModuleNotFoundError)


@pytest.mark.parametrize("statement, name", [
    ("from parsl.providers import PBSProProvider", "parsl.providers.PBSProProvider"),
    ("from parsl.executors import WorkQueueExecutor", "parsl.executors.WorkQueueExecutor"),
    ("from parsl import WorkQueueExecutor", "parsl.WorkQueueExecutor"),
    ("from parsl.executors.taskvine import TaskVineExecutor", "parsl.executors.taskvine"),
    ("from parsl.data_provider.http import HTTPInTaskStaging", "parsl.data_provider.http"),
    ("from parsl.data_provider import globus", "parsl.data_provider.globus"),
    ("import parsl.data_provider.zip", "parsl.data_provider.zip"),
])
def test_the_import_lines_from_parsls_docs(parsl, statement, name):
    with pytest.raises(ImportError) as raised:
        exec(statement, {})
    assert str(raised.value) == _unsupported_table(parsl)[name]


def test_a_script_sees_one_line(parsl):
    run = run_python("from parsl.executors.taskvine import TaskVineExecutor")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        "ImportError: parsl.executors.taskvine is not provided by Sprig (no TaskVine executor); "
        "use HighThroughputExecutor with LocalProvider, or AdHocProvider for a list of ssh hosts")


def test_monitoring_hub_has_parsls_import_paths(parsl):
    from parsl import MonitoringHub as top
    from parsl.monitoring import MonitoringHub
    from parsl.monitoring.monitoring import MonitoringHub as inner

    assert top is MonitoringHub is inner
    hub = MonitoringHub(hub_address="127.0.0.1", hub_port=55055, resource_monitoring_interval=2,
                        logging_endpoint="sqlite:////tmp/x/monitoring.db", monitoring_debug=True)
    assert hub.to_spec() == {"database": "/tmp/x/monitoring.db", "resource_monitoring_enabled": True,
                             "resource_monitoring_interval": 2.0, "workflow_name": None, "workflow_version": None}
    with pytest.raises(ValueError, match="logging_endpoint 'postgresql://db' is not supported"):
        MonitoringHub(logging_endpoint="postgresql://db").to_spec()


def test_unknown_names_stay_ordinary_misses(parsl):
    import importlib.util

    assert not hasattr(parsl.providers, "NoSuchProvider")
    assert getattr(parsl.executors, "NoSuchExecutor", None) is None
    assert not hasattr(parsl.data_provider, "no_such_module")
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        parsl.nothing_here  # noqa: B018
    assert importlib.util.find_spec("parsl.no_such_module") is None
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("parsl.no_such_module")


def test_the_finder_is_installed_once_and_only_answers_for_sprigs_parsl(parsl, monkeypatch):
    from parsl._unsupported import UnsupportedModuleFinder

    _forget_parsl()
    import parsl as again  # noqa: F401  (a second import must not add a second finder)

    finders = [f for f in sys.meta_path if getattr(f, "sprig_compat_unsupported", False)]
    assert len(finders) == 1 and sys.meta_path[-1] is finders[0]
    assert finders[0].find_spec("parsl.executors.taskvine") is not None
    monkeypatch.setitem(sys.modules, "parsl", type(sys)("parsl"))  # some other parsl: the finder stays out
    assert UnsupportedModuleFinder.find_spec("parsl.executors.taskvine") is None
    assert UnsupportedModuleFinder.find_spec("taskvine") is None


# MARK: task states


def test_states_have_parsls_names_and_numbers(parsl):
    from parsl.dataflow.states import FINAL_FAILURE_STATES, FINAL_STATES, States

    assert {s.name: s.value for s in States} == {
        "unsched": -1, "pending": 0, "running": 2, "exec_done": 3, "failed": 4, "dep_fail": 5, "launched": 7,
        "fail_retryable": 8, "memo_done": 9, "joining": 10, "running_ended": 11}
    assert States(4) is States.failed and States.exec_done == 3
    assert str(States.dep_fail) == "States.dep_fail"
    assert FINAL_FAILURE_STATES == {States.failed, States.dep_fail}
    assert FINAL_STATES == {States.exec_done, States.memo_done, States.failed, States.dep_fail}
    assert FINAL_FAILURE_STATES <= FINAL_STATES


# MARK: dependency resolvers


def _done(value):
    future = concurrent.futures.Future()
    future.set_result(value)
    return future


def test_deep_resolver_finds_and_unwraps_futures_in_containers(parsl):
    from parsl.dataflow.dependency_resolvers import DEEP_DEPENDENCY_RESOLVER as deep

    a, b, c, d, e = (_done(v) for v in (1, 2, 3, "k", 5))
    Pair = collections.namedtuple("Pair", "left right")
    argument = [a, (b, {d: c}), {e}, Pair(a, 7), "plain"]
    assert deep.traverse_to_gather(argument) == [a, b, d, c, e, a]
    assert deep.traverse_to_unwrap(argument) == [1, (2, {"k": 3}), {5}, Pair(1, 7), "plain"]
    assert type(deep.traverse_to_unwrap(Pair(a, b))) is Pair
    assert deep.traverse_to_gather(a) == [a] and deep.traverse_to_unwrap(a) == 1
    assert deep.traverse_to_gather(list(range(3))) == []
    nested: list = [a]
    for _ in range(5000):  # deep nesting: gathering uses no recursion
        nested = [nested]
    assert deep.traverse_to_gather(nested) == [a]


def test_shallow_resolver_sees_direct_futures_only(parsl):
    from parsl.dataflow.dependency_resolvers import SHALLOW_DEPENDENCY_RESOLVER as shallow

    a = _done(1)
    assert shallow.traverse_to_gather(a) == [a] and shallow.traverse_to_unwrap(a) == 1
    assert shallow.traverse_to_gather([a]) == [] and shallow.traverse_to_unwrap([a]) == [a]
    with pytest.raises(ValueError, match="not done"):
        shallow.traverse_to_unwrap(concurrent.futures.Future())


def test_resolvers_are_values_configs_accept(parsl):
    from parsl.dataflow.dependency_resolvers import (
        DEEP_DEPENDENCY_RESOLVER,
        SHALLOW_DEPENDENCY_RESOLVER,
        DependencyResolver,
        deep_traverse_to_gather,
        deep_traverse_to_unwrap,
    )

    assert DependencyResolver(deep_traverse_to_gather, deep_traverse_to_unwrap) == DEEP_DEPENDENCY_RESOLVER
    assert DEEP_DEPENDENCY_RESOLVER != SHALLOW_DEPENDENCY_RESOLVER
    custom = DependencyResolver(traverse_to_gather=lambda o: [], traverse_to_unwrap=lambda o: o)
    assert "DependencyResolver(traverse_to_gather=" in repr(custom)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.SprigWarning)  # Sprig keeps its own rule (see sprig.config)
        parsl.Config(dependency_resolver=DEEP_DEPENDENCY_RESOLVER)


# MARK: launchers


def _bash(script: str, tmp_path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, cwd=str(tmp_path),
                          env={**os.environ, **(env or {})})


def _stub_tools(tmp_path: Path, *names: str) -> dict[str, str]:
    """Stand-ins for cluster tools that no test machine has: each records its arguments in
    ``calls.log`` and runs its last argument (the command's script) with bash once."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in names:
        stub = tools / name
        stub.write_text(f'#!/bin/bash\necho "{name} $*" >> "{tmp_path}/calls.log"\n'
                        'for last in "$@"; do :; done\nbash "$last"\n')
        stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}


def test_launchers_take_parsls_parameters(parsl):
    from parsl import launchers as L

    assert L.SimpleLauncher(debug=False).debug is False
    assert L.SingleNodeLauncher(debug=False, fail_on_any=True).fail_on_any is True
    assert L.WrappedLauncher("time", debug=False).prepend == "time"
    for cls in (L.SrunLauncher, L.SrunMPILauncher, L.AprunLauncher, L.JsrunLauncher):
        launcher = cls(debug=False, overrides="--exclusive")
        assert (launcher.debug, launcher.overrides) == (False, "--exclusive")
    mpiexec = L.MpiExecLauncher(debug=True, bind_cmd="--cpu-bind", overrides="--verbose")
    assert (mpiexec.bind_cmd, mpiexec.overrides) == ("--cpu-bind", "--verbose")
    mpirun = L.MpiRunLauncher(bash_location="/usr/bin/bash", overrides="-x FOO")
    assert (mpirun.bash_location, mpirun.overrides) == ("/usr/bin/bash", "-x FOO")
    assert L.GnuParallelLauncher(debug=False).debug is False
    for name in L.__all__:
        assert isinstance(getattr(L, name), type)
        if name != "Launcher":
            assert issubclass(getattr(L, name), config.Launcher)
    assert L.launchers.SrunLauncher is L.SrunLauncher and L.base.Launcher is L.Launcher
    with pytest.raises(TypeError):
        L.Launcher()  # abstract, as in Parsl


def test_launchers_read_like_their_constructor_call(parsl):
    from parsl.launchers import SingleNodeLauncher, SrunLauncher, WrappedLauncher

    assert repr(SingleNodeLauncher()) == "SingleNodeLauncher(debug=True, fail_on_any=False)"
    assert repr(SrunLauncher(overrides="-c 2")) == "SrunLauncher(debug=True, overrides='-c 2')"
    assert repr(WrappedLauncher("time")) == "WrappedLauncher('time', debug=True)"


def test_simple_and_wrapped_launchers(parsl, caplog):
    from parsl.launchers import SimpleLauncher, WrappedLauncher

    assert SimpleLauncher()("process_worker_pool.py -v", 1, 1) == "process_worker_pool.py -v"
    assert WrappedLauncher("docker run img")("worker.py", 1, 1) == "docker run img worker.py"
    with caplog.at_level("WARNING"):
        assert SimpleLauncher()("cmd", 1, 3) == "cmd"
    assert "fewer workers" in caplog.text


def test_single_node_launcher_starts_each_copy_with_its_number(parsl, tmp_path):
    from parsl.launchers import SingleNodeLauncher

    script = SingleNodeLauncher(debug=True)('echo "copy $1 of cores $CORES" >> copies.txt', 2, 2)
    run = _bash(script, tmp_path)
    assert run.returncode == 0, run.stderr
    lines = sorted((tmp_path / "copies.txt").read_text().splitlines())
    cores = os.cpu_count()
    assert lines == [f"copy {i} of cores {cores}" for i in (1, 2, 3, 4)]
    assert "Found cores" in run.stdout and "All workers done" in run.stdout
    quiet = _bash(SingleNodeLauncher(debug=False)("true", 1, 1), tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == ""


@pytest.mark.parametrize("fail_on_any, failing, exit_code", [
    (False, "1", 0),        # some copies failed: success unless all did
    (False, "1 2 3", 1),    # all failed
    (True, "2", 1),         # any failure fails the block
    (True, "", 0),
])
def test_single_node_launcher_exit_status(parsl, tmp_path, fail_on_any, failing, exit_code):
    from parsl.launchers import SingleNodeLauncher

    command = f'for bad in {failing or "none"}; do [ "$1" = "$bad" ] && exit 3; done; exit 0'
    run = _bash(SingleNodeLauncher(debug=False, fail_on_any=fail_on_any)(command, 3, 1), tmp_path)
    assert run.returncode == exit_code, run.stderr


def test_single_node_launcher_is_what_a_local_provider_does(parsl):
    from parsl.launchers import SimpleLauncher, SingleNodeLauncher
    from parsl.providers import LocalProvider

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        provider = LocalProvider(launcher=SingleNodeLauncher(debug=False))
    assert isinstance(SingleNodeLauncher(), config.SingleNodeLauncher)
    assert provider.to_spec()["kind"] == "local"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.SprigWarning)
        LocalProvider(launcher=SimpleLauncher())


@pytest.mark.parametrize("name, kwargs, tool, expected_call", [
    ("SrunLauncher", {"overrides": "--mem=1G"}, "srun", "srun --ntasks 4 -l --mem=1G bash {script}"),
    ("AprunLauncher", {}, "aprun", "aprun -n 4 -N 2 /bin/bash {script}"),
    ("JsrunLauncher", {"overrides": "-g 1"}, "jsrun", "jsrun -n 4 -r 2 -g 1 /bin/bash {script}"),
    ("MpiRunLauncher", {}, "mpirun", "mpirun -np 4 /bin/bash {script}"),
    ("MpiExecLauncher", {"overrides": "--ppn 2"}, "mpiexec",
     "mpiexec --bind-to none --ppn 2 -n 4 --hostfile job7.nodes /bin/sh {script}"),
])
def test_tool_launchers_write_the_command_and_run_it_through_the_tool(parsl, tmp_path, name, kwargs, tool,
                                                                      expected_call):
    from parsl import launchers

    scripts = tmp_path / "submit"
    scripts.mkdir()
    command = 'echo "ran with $MARK" > "$OUT"'
    text = getattr(launchers, name)(debug=False, **kwargs)(command, 2, 2, str(scripts))
    env = {**_stub_tools(tmp_path, tool), "JOBNAME": "job7", "SLURM_JOB_NAME": "job7", "SLURM_CPUS_ON_NODE": "4",
           "SLURM_JOB_NUM_NODES": "2", "MARK": "run-time", "OUT": str(tmp_path / "out.txt")}
    run = _bash(text, tmp_path, env)
    assert run.returncode == 0, run.stderr
    script = scripts / "cmd_job7.sh"
    assert script.read_text() == command + "\n"  # verbatim: expanded where each copy runs
    assert (tmp_path / "calls.log").read_text().splitlines() == [expected_call.format(script=script)]
    assert (tmp_path / "out.txt").read_text() == "ran with run-time\n"
    if tool == "mpiexec":
        assert (tmp_path / "job7.nodes").read_text() == "localhost\n"


def test_srun_mpi_launcher_splits_the_allocation(parsl, tmp_path):
    from parsl.launchers import SrunMPILauncher

    env = {**_stub_tools(tmp_path, "srun"), "SLURM_JOB_NAME": "j", "SLURM_CPUS_ON_NODE": "4",
           "SLURM_JOB_NUM_NODES": "2"}
    run = _bash(SrunMPILauncher(debug=False)("true", 4, 1, ""), tmp_path, env)  # 4 copies > 2 nodes: share cores
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "calls.log").read_text().splitlines() == ["srun --ntasks 2 -l bash cmd_j.sh"] * 4
    (tmp_path / "calls.log").unlink()
    run = _bash(SrunMPILauncher(debug=False)("true", 1, 2, ""), tmp_path, env)  # 2 copies, 2 nodes: a node each
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "calls.log").read_text().splitlines() == ["srun --exclusive --nodes 1 -l bash cmd_j.sh"] * 2


def test_gnu_parallel_launcher_lists_one_line_per_copy(parsl, tmp_path):
    from parsl.launchers import GnuParallelLauncher

    text = GnuParallelLauncher(debug=False)("true", 3, 1, "")
    assert "--jobs 3" in text and "--sshloginfile" in text
    tools = _stub_tools(tmp_path, "parallel")  # the stub's last argument is not a script: give it one
    (tmp_path / "tools" / "parallel").write_text(f'#!/bin/bash\necho "parallel $*" >> "{tmp_path}/calls.log"\n'
                                                 'cat > "$(pwd)/parallel.input"\n')
    run = _bash(text, tmp_path, {**tools, "JOBNAME": "g"})
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "parallel.input").read_text() == "sh cmd_g.sh\n" * 3
    assert (tmp_path / "g.nodes").read_text() == "localhost\n"


# MARK: utils


def test_version_and_checkpoints(parsl, tmp_path):
    from parsl.utils import get_all_checkpoints, get_last_checkpoint, get_version

    assert get_version() == parsl.__version__
    assert get_all_checkpoints(str(tmp_path / "none")) == [] and get_last_checkpoint(str(tmp_path / "none")) == []
    for run in ("000", "001", "999", "1000", "1001"):
        (tmp_path / run).mkdir()
    for run in ("000", "999", "1000"):
        (tmp_path / run / "checkpoint").mkdir()
    (tmp_path / "monitoring.db").write_text("")
    # Parsl's orders: the names as text for every run, the highest number for the last one
    assert get_all_checkpoints(str(tmp_path)) == [str(tmp_path / run / "checkpoint") for run in ("000", "1000", "999")]
    assert get_last_checkpoint(str(tmp_path)) == [str(tmp_path / "1000" / "checkpoint")]


def test_representation_mixin(parsl):
    import functools

    from parsl.utils import RepresentationMixin

    class Site(RepresentationMixin):
        def __init__(self, host, cores=4, *, label="site"):
            self.host, self.cores, self.label = host, cores, label

    assert repr(Site("a")) == "Site('a', cores=4, label='site')"
    assert repr(Site("a", 8, label="x")) == "Site('a', cores=8, label='x')"

    class Forgetful(RepresentationMixin):
        def __init__(self, kept, dropped=None):
            self.kept = kept

    assert repr(Forgetful(1)) == "Forgetful(1, dropped=<unrecorded>)"
    Forgetful._validate_repr = True
    with pytest.raises(AttributeError, match="dropped"):
        repr(Forgetful(1))

    def logged(init):
        @functools.wraps(init)
        def wrapper(self, *args, **kwargs):
            init(self, *args, **kwargs)
        return wrapper

    class Wrapped(RepresentationMixin):
        @logged
        def __init__(self, name):
            self.name = name

    assert repr(Wrapped("n")) == "Wrapped('n')"
    long = repr(Site("h" * 70, label="l"))
    assert long == f"Site(\n    {'h' * 70!r},\n    cores=4,\n    label='l',\n)"


def test_std_fname_mode(parsl, tmp_path):
    from parsl.utils import get_std_fname_mode

    assert get_std_fname_mode("stdout", "out.txt") == ("out.txt", "a+")
    assert get_std_fname_mode("stdout", tmp_path / "o") == (str(tmp_path / "o"), "a+")
    assert get_std_fname_mode("stderr", ("err.txt", "w")) == ("err.txt", "w")
    assert get_std_fname_mode("stderr", (File("e.txt"), "w")) == ("e.txt", "w")
    for bad in (("a", "w", "x"), 3, (3, "w")):
        with pytest.raises(errors.BadStdStreamFile, match="std"):
            get_std_fname_mode("stdout", bad)


def test_waiting_for_and_opening_files(parsl, tmp_path):
    from parsl.utils import time_limited_open, wait_for_file

    present = tmp_path / "present.txt"
    present.write_text("hello")
    with wait_for_file(str(present), seconds=10):
        pass
    with time_limited_open(str(present), "r", seconds=10) as handle:
        assert handle.read() == "hello"
    assert handle.closed
    with pytest.raises(FileNotFoundError):
        with time_limited_open(str(tmp_path / "missing"), "r", seconds=0.05):
            pass


def test_small_helpers(parsl):
    from parsl.utils import (
        AtomicIDCounter,
        execute_wait,
        sanitize_dns_label_rfc1123,
        sanitize_dns_subdomain_rfc1123,
        wtime_to_minutes,
    )

    assert wtime_to_minutes("01:30:59") == 90 and wtime_to_minutes("00:00:30") == 0
    counter = AtomicIDCounter()
    seen: list[int] = []
    threads = [threading.Thread(target=lambda: seen.extend(counter.get_id() for _ in range(500))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(seen) == list(range(2000))
    assert execute_wait("echo out; echo err >&2; exit 4") == (4, "out\n", "err\n")
    with pytest.raises(subprocess.TimeoutExpired):
        execute_wait("sleep 30", walltime=0.2)
    assert sanitize_dns_label_rfc1123("My_Task--Name!") == "my-task-name"
    assert sanitize_dns_label_rfc1123("x" * 80) == "x" * 63
    assert sanitize_dns_subdomain_rfc1123("Run.._Block.7") == "run.block.7"
    with pytest.raises(ValueError):
        sanitize_dns_label_rfc1123("!!!")


def test_timers(parsl):
    from parsl.utils import AutoCancelTimer, Timer

    calls: list[str] = []
    enough = threading.Event()

    def tick(word):
        calls.append(word)
        if len(calls) >= 3:
            enough.set()

    timer = Timer(tick, "tick", interval=0.01, name="test")
    assert enough.wait(timeout=30)
    timer.close(timeout=30)
    assert not timer._thread.is_alive() and timer._thread.name.startswith("test-Timer-Thread-")
    assert set(calls) == {"tick"}

    fired = threading.Event()
    with AutoCancelTimer(60, fired.set) as guard:
        pass
    guard.join(timeout=30)
    assert not guard.is_alive() and not fired.is_set()


# MARK: serialize


def test_serialize_round_trips(parsl):
    from parsl.serialize import deserialize, pack_apply_message, serialize, unpack_apply_message

    value = {"a": [1, 2.5, "x"], "b": (None, b"bytes")}
    assert deserialize(serialize(value)) == value
    assert deserialize(serialize(len)) is len
    packed = pack_apply_message(max, (3, 9), {"default": 0})
    assert unpack_apply_message(packed) == [max, (3, 9), {"default": 0}]
    with pytest.raises(ValueError, match="not a buffer"):
        unpack_apply_message(b"junk")
    with pytest.raises(ValueError, match="truncated"):
        unpack_apply_message(packed[:-3])


@needs_cloudpickle
def test_serialize_ships_lambdas_by_value(parsl):
    from parsl.serialize import deserialize, serialize

    offset = 10
    assert deserialize(serialize(lambda x: x + offset))(5) == 15


# MARK: File


def test_file_attributes_of_a_plain_path(parsl):
    from parsl.data_provider.files import File as ParslFile

    f = ParslFile("data/in.txt")
    assert type(f) is File and f"{type(f).__module__}.{type(f).__qualname__}" == "sprig.files.File"
    assert (f.scheme, f.netloc, f.path, f.filename) == ("file", "", "data/in.txt", "in.txt")
    assert f.filepath == os.fspath(f) == str(f) == "data/in.txt"
    assert f.url == "data/in.txt"  # the text given, as in Parsl
    assert f.local_path is None
    assert File(Path("a/b.csv")).path == "a/b.csv" and File(b"raw.bin").path == "raw.bin"
    assert File("odd#name?.txt").filename == "odd#name?.txt"  # a plain path is not parsed as a URL


def test_file_attributes_of_a_file_url():
    f = File("file://localhost/scratch/in.txt")
    assert (f.scheme, f.netloc, f.path, f.filename) == ("file", "localhost", "/scratch/in.txt", "in.txt")
    assert f.filepath == "/scratch/in.txt" and f.url == "file://localhost/scratch/in.txt"


def test_local_path_is_settable_and_cleancopy_drops_it():
    f = File("data/in.txt")
    f.local_path = "/tmp/staged/in.txt"
    assert f.filepath == os.fspath(f) == str(f) == "/tmp/staged/in.txt"
    assert f.path == "data/in.txt" and " local_path=/tmp/staged/in.txt>" in repr(f)
    assert f == File("data/in.txt") and hash(f) == hash(File("data/in.txt"))
    copy = f.cleancopy()
    assert copy is not f and copy.local_path is None and copy.filepath == "data/in.txt"
    restored = pickle.loads(pickle.dumps(f))
    assert restored.local_path == "/tmp/staged/in.txt" and restored.filepath == "/tmp/staged/in.txt"


def test_other_schemes_have_no_filepath_and_say_why():
    with pytest.raises(ValueError, match="globus:// .*no data staging"):
        File("globus://endpoint/path").filepath


# MARK: README


def test_readme_lists_the_new_modules():
    text = (COMPAT_DIR / "README.md").read_text()
    for module in ("parsl.app.python", "parsl.app.bash", "parsl.dataflow.states", "parsl.dataflow.dependency_resolvers",
                   "parsl.executors.base", "parsl.executors.errors", "parsl.executors.high_throughput.errors",
                   "parsl.launchers.launchers", "parsl.serialize", "parsl.utils"):
        assert f"`{module}`" in text, module


def test_script_using_the_new_names_runs():
    code = textwrap.dedent("""
        from parsl.launchers import SingleNodeLauncher
        from parsl.providers import LocalProvider
        from parsl.executors import HighThroughputExecutor
        from parsl.config import Config
        from parsl.dataflow.states import States
        from parsl.utils import RepresentationMixin
        config = Config(executors=[HighThroughputExecutor(provider=LocalProvider(launcher=SingleNodeLauncher()))])
        print(States.exec_done.value)
    """)
    run = run_python(code)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "3\n" and run.stderr == ""


def test_slurm_provider_and_srun_launcher_are_served(parsl):
    from parsl.launchers import SrunLauncher
    from parsl.providers import SlurmProvider
    from parsl.providers.slurm.slurm import SlurmProvider as Deep

    assert Deep is SlurmProvider
    spec = SlurmProvider(partition="debug", launcher=SrunLauncher(overrides="-K")).to_spec()
    assert spec["kind"] == "slurm" and spec["launcher"] == {"kind": "srun", "debug": True, "overrides": "-K"}
    from parsl.launchers import SimpleLauncher

    assert SlurmProvider(nodes_per_block=2).to_spec()["nodes_per_block"] == 2
    with pytest.raises(Exception, match="nodes_per_block"):
        SlurmProvider(nodes_per_block=2, launcher=SimpleLauncher())
