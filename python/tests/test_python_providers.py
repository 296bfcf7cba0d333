"""Providers defined in Python: which objects the engine drives through their own methods, the
spec it gets, and what a provider's exceptions become (messages naming the class)."""

import enum

import pytest

from sprig import python_providers
from sprig.config import HighThroughputExecutor
from sprig.errors import ConfigurationError
from sprig.providers import LocalProvider, SlurmProvider
from sprig.python_providers import is_python_defined


class _State(enum.Enum):
    """Parsl's JobState, as far as the engine reads it (the member's name)."""

    RUNNING = 2
    FAILED = 4


class _Status:
    """Parsl's JobStatus, as far as the engine reads it."""

    def __init__(self, state, message=None, exit_code=None):
        self.state, self.message, self.exit_code = state, message, exit_code


class Counting(LocalProvider):
    def submit(self, command, tasks_per_node, job_name="x"):
        return super().submit(command, tasks_per_node, job_name)


class Scheduler:
    init_blocks = 2
    max_blocks = 3
    status_polling_interval = 0.5

    def __init__(self, fail=None):
        self.fail = fail
        self.cancelled = []

    def submit(self, command, tasks_per_node, job_name):
        if self.fail:
            raise self.fail
        return 41

    def status(self, job_ids):
        return [_Status(_State.FAILED, message="node lost", exit_code=3) for _ in job_ids]

    def cancel(self, job_ids):
        self.cancelled.extend(job_ids)
        return [True for _ in job_ids]


def test_only_objects_that_define_the_interface_are_driven_in_python():
    assert is_python_defined(Counting())
    assert is_python_defined(Scheduler())
    assert not is_python_defined(LocalProvider())
    assert not is_python_defined(SlurmProvider())
    assert not is_python_defined("local")


def test_the_executor_spec_names_the_object_and_its_attributes():
    provider = Scheduler()
    spec = HighThroughputExecutor(provider=provider).to_spec()["provider"]
    assert spec["kind"] == "python" and spec["class"] == "Scheduler"
    assert (spec["init_blocks"], spec["min_blocks"], spec["max_blocks"]) == (2, 0, 3)
    assert spec["status_polling_interval"] == 0.5
    assert python_providers._providers[spec["key"]] is provider
    assert HighThroughputExecutor(provider=LocalProvider()).to_spec()["provider"]["kind"] == "local"


def test_more_than_one_node_per_block_is_refused():
    provider = Scheduler()
    provider.nodes_per_block = 2
    with pytest.raises(ConfigurationError, match="nodes_per_block"):
        HighThroughputExecutor(provider=provider).to_spec()


def test_calls_give_plain_answers_and_keep_the_original_job_ids():
    provider = Scheduler()
    key = python_providers.spec(provider)["key"]
    assert python_providers.submit(key, "true", 1, "job") == ["ok", "41"]
    assert python_providers.status(key, ["41"]) == ["FAILED (exit code 3): node lost"]
    assert python_providers.cancel(key, ["41"]) == ""
    assert provider.cancelled == [41]  # the id as submit returned it, not its text


def test_a_submit_that_raises_becomes_a_message_naming_the_class():
    key = python_providers.spec(Scheduler(fail=OSError("the scheduler is down")))["key"]
    assert python_providers.submit(key, "true", 1, "job") == ["error", "Scheduler.submit raised OSError: the scheduler is down"]


def test_a_job_that_ended_says_the_last_lines_of_its_stderr(tmp_path):
    stderr = tmp_path / "job.stderr"
    stderr.write_text("starting\nno licence left\n")

    class Ended(Scheduler):
        def status(self, job_ids):
            status = _Status(_State.FAILED, exit_code=1)
            status.stderr_path = str(stderr)
            return [status, _Status(_State.RUNNING)]

    key = python_providers.spec(Ended())["key"]
    assert python_providers.status(key, ["1", "2"]) == ["FAILED (exit code 1): starting | no licence left", ""]
