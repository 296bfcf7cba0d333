"""sprig.config: config objects, their checks, and the spec dicts the engine loads."""

from __future__ import annotations

import warnings

import pytest

from sprig.config import (
    Config,
    HighThroughputExecutor,
    LocalChannel,
    LocalProvider,
    SingleNodeLauncher,
    ThreadPoolExecutor,
    htex_local,
    local_threads,
)
from sprig.errors import ConfigurationError, SprigWarning


@pytest.fixture
def no_warnings():
    """Any warning in the test fails it."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# MARK: specs


def test_thread_pool_spec():
    assert ThreadPoolExecutor().to_spec() == {"kind": "threads", "label": "threads", "max_threads": 2}
    assert ThreadPoolExecutor(label="t", max_threads=4).to_spec() == {"kind": "threads", "label": "t", "max_threads": 4}
    assert ThreadPoolExecutor("pos", 3).to_spec()["max_threads"] == 3


def test_thread_pool_none_means_python_default():
    assert ThreadPoolExecutor(max_threads=None).max_threads >= 5


def test_local_provider_spec():
    assert LocalProvider().to_spec() == {"kind": "local", "init_blocks": 1, "min_blocks": 0, "max_blocks": 1,
                                         "worker_init": "", "cores_per_node": None, "mem_per_node": None}
    spec = LocalProvider(channel=LocalChannel(), init_blocks=2, min_blocks=1, max_blocks=4,
                         worker_init="source ~/venv/bin/activate").to_spec()
    assert spec == {"kind": "local", "init_blocks": 2, "min_blocks": 1, "max_blocks": 4,
                    "worker_init": "source ~/venv/bin/activate", "cores_per_node": None, "mem_per_node": None}
    provider = LocalProvider()
    provider.cores_per_node, provider.mem_per_node = 8, 16  # Parsl's tests set them after construction
    assert (provider.to_spec()["cores_per_node"], provider.to_spec()["mem_per_node"]) == (8, 16.0)


def test_htex_default_spec():
    assert HighThroughputExecutor().to_spec() == {
        "kind": "htex",
        "label": "HighThroughputExecutor",
        "max_workers": None,
        "cores_per_worker": 1.0,
        "worker_debug": False,
        "prefetch": None,
        "heartbeat_period": None,
        "heartbeat_threshold": None,
        "worker_logdir_root": None,
        "cpu_affinity": "none",
        "mem_per_worker": None, "available_accelerators": [], "drain_period": None, "launch_cmd": None,
        "address": None, "worker_port_range": [54000, 55000],
        "provider": {"kind": "local", "init_blocks": 1, "min_blocks": 0, "max_blocks": 1, "worker_init": "",
                     "cores_per_node": None, "mem_per_node": None},
    }


def test_htex_every_option_reaches_the_spec():
    htex = HighThroughputExecutor(label="htex", max_workers_per_node=3, cores_per_worker=0.5, worker_debug=True,
                                  heartbeat_period=1, heartbeat_threshold=5.5, prefetch_capacity=0,
                                  worker_logdir_root="/tmp/logs", cpu_affinity="alternating", mem_per_worker=1.5,
                                  available_accelerators=["gpu0", "gpu1"], drain_period=30, launch_cmd="env process_worker_pool.py",
                                  provider=LocalProvider(init_blocks=0, max_blocks=2))
    spec = htex.to_spec()
    assert spec == {
        "kind": "htex", "label": "htex", "max_workers": 3, "cores_per_worker": 0.5, "worker_debug": True,
        "prefetch": 0, "heartbeat_period": 1.0, "heartbeat_threshold": 5.5, "worker_logdir_root": "/tmp/logs",
        "cpu_affinity": "alternating", "mem_per_worker": 1.5, "available_accelerators": ["gpu0", "gpu1"],
        "drain_period": 30.0, "launch_cmd": "env process_worker_pool.py",
        "address": None, "worker_port_range": [54000, 55000],
        "provider": {"kind": "local", "init_blocks": 0, "min_blocks": 0, "max_blocks": 2, "worker_init": "",
                     "cores_per_node": None, "mem_per_node": None},
    }
    assert isinstance(spec["heartbeat_period"], float)


def test_htex_max_workers_is_the_older_name():
    assert HighThroughputExecutor(max_workers=4).to_spec()["max_workers"] == 4
    assert HighThroughputExecutor(max_workers=4).max_workers_per_node == 4
    assert HighThroughputExecutor(max_workers_per_node=4).max_workers == 4
    assert HighThroughputExecutor(max_workers=float("inf")).to_spec()["max_workers"] is None
    assert HighThroughputExecutor(max_workers=2, max_workers_per_node=2).to_spec()["max_workers"] == 2
    with pytest.raises(ConfigurationError, match="differ"):
        HighThroughputExecutor(max_workers=2, max_workers_per_node=3)


def test_config_default_is_one_thread_pool():
    assert Config().to_spec() == {
        "executors": [{"kind": "threads", "label": "threads", "max_threads": 2}],
        "retries": 0,
        "run_dir": "runinfo",
        "strategy": "simple",
        "max_idletime": 120.0,
        "retry_handler": None, "std_autopath": False, "monitoring": None,
        "checkpoints": {"memoize": True, "mode": None, "files": None, "period": None},
        "run_log": True,
    }
    assert Config(executors=[]).to_spec()["executors"] == [{"kind": "threads", "label": "threads", "max_threads": 2}]


def test_initialize_logging_is_a_bool_or_a_log_config():
    from sprig.log_configs import FileLogging, NoopLogging

    assert Config(initialize_logging=False).to_spec()["run_log"] is False
    assert Config(initialize_logging=NoopLogging()).to_spec()["run_log"] is False
    log_config = FileLogging(format_string="%(message)s")
    config = Config(initialize_logging=log_config)
    assert config.initialize_logging is log_config and config.to_spec()["run_log"] is False
    with pytest.raises(TypeError, match="initialize_logging must be True, False or a log config"):
        Config(initialize_logging="yes")


def test_config_options_reach_the_spec():
    config = Config([ThreadPoolExecutor(max_threads=4), HighThroughputExecutor(label="htex")],
                    retries=2, run_dir="runs", strategy="none", max_idletime=5)
    spec = config.to_spec()
    assert [e["label"] for e in spec["executors"]] == ["threads", "htex"]
    assert spec["retries"] == 2 and spec["run_dir"] == "runs" and spec["strategy"] == "none"
    assert spec["max_idletime"] == 5.0 and isinstance(spec["max_idletime"], float)


def test_strategy_none_means_none():
    assert Config(strategy=None).to_spec()["strategy"] == "none"
    assert Config(strategy="none").to_spec()["strategy"] == "none"
    assert Config(strategy="htex_auto_scale").to_spec()["strategy"] == "simple"
    with pytest.raises(ConfigurationError, match="unknown strategy 'fancy'"):
        Config(strategy="fancy")


def test_executors_can_be_any_iterable():
    spec = Config(executors=(e for e in [ThreadPoolExecutor(label="a"), ThreadPoolExecutor(label="b")])).to_spec()
    assert [e["label"] for e in spec["executors"]] == ["a", "b"]


def test_specs_are_plain_data():
    import json

    for config in (local_threads(), htex_local(), Config(strategy=None)):
        spec = config.to_spec()
        assert json.loads(json.dumps(spec)) == spec


# MARK: ready-made configs


def test_local_threads_is_parsls():
    assert local_threads().to_spec() == {
        "executors": [{"kind": "threads", "label": "threads", "max_threads": 2}],
        "retries": 0, "run_dir": "runinfo", "strategy": "simple", "max_idletime": 120.0, "retry_handler": None, "std_autopath": False,
        "monitoring": None,
        "checkpoints": {"memoize": True, "mode": None, "files": None, "period": None},
        "run_log": True,
    }


def test_htex_local_is_parsls():
    spec = htex_local().to_spec()
    assert spec == {
        "executors": [{
            "kind": "htex", "label": "htex_local", "max_workers": None, "cores_per_worker": 1.0,
            "worker_debug": False, "prefetch": None, "heartbeat_period": None, "heartbeat_threshold": None,
            "worker_logdir_root": None, "cpu_affinity": "none",
            "mem_per_worker": None, "available_accelerators": [], "drain_period": None, "launch_cmd": None,
            "address": None, "worker_port_range": [54000, 55000],
            "provider": {"kind": "local", "init_blocks": 1, "min_blocks": 0, "max_blocks": 1, "worker_init": "",
                         "cores_per_node": None, "mem_per_node": None},
        }],
        "retries": 0, "run_dir": "runinfo", "strategy": "simple", "max_idletime": 120.0, "retry_handler": None, "std_autopath": False,
        "monitoring": None,
        "checkpoints": {"memoize": True, "mode": None, "files": None, "period": None},
        "run_log": True,
    }


def test_ready_made_configs_are_fresh_objects():
    assert local_threads() is not local_threads()
    assert htex_local().executors[0] is not htex_local().executors[0]


# MARK: checks


@pytest.mark.parametrize("make, name", [
    (lambda: Config(retires=2), "retires"),
    (lambda: ThreadPoolExecutor(max_thread=4), "max_thread"),
    (lambda: HighThroughputExecutor(cores_per_workers=2), "cores_per_workers"),
    (lambda: LocalProvider(max_block=2), "max_block"),
    (lambda: LocalChannel(script_directory="x"), "script_directory"),
])
def test_unknown_keywords_are_type_errors_naming_them(make, name):
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{name}'"):
        make()


def test_a_typo_gets_a_suggestion():
    with pytest.raises(TypeError, match="did you mean 'max_threads'"):
        ThreadPoolExecutor(max_thread=4)
    with pytest.raises(TypeError, match="did you mean 'retries'"):
        Config(retires=1)


@pytest.mark.parametrize("make, text", [
    (lambda: ThreadPoolExecutor(max_threads="4"), "max_threads must be an int"),
    (lambda: ThreadPoolExecutor(max_threads=True), "max_threads must be an int"),
    (lambda: ThreadPoolExecutor(label=3), "label must be a str"),
    (lambda: Config(retries=1.5), "retries must be an int"),
    (lambda: Config(executors=["threads"]), "executors must be executors"),
    (lambda: Config(strategy=1), "strategy must be"),
    (lambda: HighThroughputExecutor(provider="local"), "provider must be a provider"),
    (lambda: HighThroughputExecutor(worker_debug=1), "worker_debug must be True or False"),
    (lambda: HighThroughputExecutor(cores_per_worker="1"), "cores_per_worker must be a number"),
    (lambda: LocalProvider(channel=object()), "channel must be a LocalChannel"),
    (lambda: LocalProvider(worker_init=None), "worker_init must be a str"),
    (lambda: Config(exit_mode="later"), "exit_mode must be 'cleanup', 'skip' or 'wait', not 'later'"),
])
def test_wrong_types_are_type_errors(make, text):
    with pytest.raises(TypeError, match=text):
        make()


@pytest.mark.parametrize("make, text", [
    (lambda: ThreadPoolExecutor(max_threads=0), "max_threads is 0; it must be 1 or more"),
    (lambda: Config(retries=-1), "retries is -1"),
    (lambda: Config(max_idletime=-1), "max_idletime"),
    (lambda: HighThroughputExecutor(cores_per_worker=0), "cores_per_worker"),
    (lambda: HighThroughputExecutor(max_workers_per_node=0), "max_workers_per_node is 0"),
    (lambda: HighThroughputExecutor(prefetch_capacity=-1), "prefetch_capacity is -1"),
    (lambda: LocalProvider(max_blocks=-1), "max_blocks is -1"),
    (lambda: LocalProvider(min_blocks=2, max_blocks=1), "min_blocks \\(2\\) is more than max_blocks \\(1\\)"),
])
def test_values_out_of_range_are_configuration_errors(make, text):
    with pytest.raises(ConfigurationError, match=text):
        make()


def test_blocks_as_parsl_allows_them():
    # Parsl starts init_blocks at load even past max_blocks (which bounds scaling), and max_blocks=0
    # means no block is ever started by scaling.
    assert LocalProvider(init_blocks=2, max_blocks=1).to_spec()["init_blocks"] == 2
    assert LocalProvider(init_blocks=0, min_blocks=0, max_blocks=0).to_spec()["max_blocks"] == 0


def test_labels_must_be_unique_and_non_empty():
    with pytest.raises(ConfigurationError, match="unique labels \\('threads' is used more than once\\)"):
        Config(executors=[ThreadPoolExecutor(), ThreadPoolExecutor(max_threads=3)])
    with pytest.raises(ConfigurationError, match="empty label"):
        Config(executors=[ThreadPoolExecutor(label="")])


# MARK: Parsl options


def test_harmless_parsl_options_are_accepted_silently(no_warnings):
    Config(app_cache=True, usage_tracking=3, initialize_logging=False, project_name="x", garbage_collect=False,
           internal_tasks_max_threads=4, strategy_period=1, checkpoint_mode=None, monitoring=None)
    ThreadPoolExecutor(thread_name_prefix="t", storage_access=None, working_dir=None)
    HighThroughputExecutor(address="127.0.0.1", worker_port_range=(1, 2), interchange_port_range=(3, 4),
                           poll_period=10, encrypted=True, cpu_affinity="none", available_accelerators=(),
                           mem_per_worker=None, launch_cmd=None)
    LocalProvider(nodes_per_block=1, launcher=SingleNodeLauncher(), cmd_timeout=30, parallelism=1)
    LocalChannel(script_dir="/tmp", userhome=".", envs={})


def test_config_as_parsl_writes_it(no_warnings):
    # A config in the style of Parsl's documentation.
    config = Config(
        executors=[HighThroughputExecutor(
            label="htex_local", address="127.0.0.1", cores_per_worker=1, max_workers_per_node=4,
            provider=LocalProvider(channel=LocalChannel(), init_blocks=1, max_blocks=1),
        )],
        strategy=None,
    )
    assert config.to_spec()["executors"][0]["max_workers"] == 4
    assert config.to_spec()["strategy"] == "none"


@pytest.mark.parametrize("make, option", [
    (lambda: ThreadPoolExecutor(working_dir="/tmp"), "working_dir"),
    (lambda: HighThroughputExecutor(interchange_launch_cmd="x"), "interchange_launch_cmd"),
    (lambda: HighThroughputExecutor(enable_mpi_mode=True), "enable_mpi_mode"),
    (lambda: LocalProvider(nodes_per_block=2), "nodes_per_block"),
    (lambda: LocalProvider(launcher=object()), "launcher"),
])
def test_unsupported_parsl_options_warn_once(make, option):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make()
    assert len(caught) == 1
    assert caught[0].category is SprigWarning
    assert f"({option}=" in str(caught[0].message) and "ignored" in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the line that made the object


def test_available_accelerators_as_parsl_takes_them():
    assert HighThroughputExecutor(available_accelerators=3).available_accelerators == ["0", "1", "2"]
    assert HighThroughputExecutor(available_accelerators=("a", "b")).available_accelerators == ["a", "b"]
    with pytest.raises(TypeError, match="count or a list"):
        HighThroughputExecutor(available_accelerators="0,1")
    with pytest.raises(ConfigurationError, match="without commas"):
        HighThroughputExecutor(available_accelerators=["0,1"])


def test_ignored_options_are_kept_for_repr():
    executor = HighThroughputExecutor(label="h", loopback_address="10.0.0.1")
    assert executor.parsl_options == {"loopback_address": "10.0.0.1"}
    assert "loopback_address='10.0.0.1'" in repr(executor)
    assert repr(ThreadPoolExecutor(max_threads=4)) == "ThreadPoolExecutor(label='threads', max_threads=4)"


def test_retry_handler_is_part_of_the_spec_and_may_be_set_later():
    def handler(exc, task_record):
        return 0.5

    assert Config(retry_handler=handler).to_spec()["retry_handler"] is handler
    config = Config()
    config.retry_handler = handler
    assert config.to_spec()["retry_handler"] is handler
    with pytest.raises(TypeError, match="retry_handler"):
        Config(retry_handler=3)
