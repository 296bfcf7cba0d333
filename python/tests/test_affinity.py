"""CPU affinity and Parsl's worker variables: the plans (pure), the config, and real managers."""

from __future__ import annotations

import os
import subprocess

import pytest

import sample_apps
from client import PY, PYTHON_DIR, WORKER_LOST, ManagerProcess, manager_env
from sprig import affinity
from sprig.config import HighThroughputExecutor
from sprig.errors import ConfigurationError

CPUS = sorted(os.sched_getaffinity(0))
needs_two_cpus = pytest.mark.skipif(len(CPUS) < 2, reason="needs at least two CPUs")


# MARK: plans


def test_plans_follow_parsl_meanings() -> None:
    cpus = [0, 1, 2, 3, 4]
    assert affinity.plan("none", 2, cpus) is None
    assert affinity.plan("block", 2, cpus) == [[0, 1], [2, 3]]
    assert affinity.plan("block-reverse", 2, cpus) == [[2, 3], [0, 1]]
    assert affinity.plan("alternating", 2, cpus) == [[0, 2, 4], [1, 3]]
    assert affinity.plan("list:0,2-3:4", 2, cpus) == [[0, 2, 3], [4]]
    assert affinity.plan("BLOCK", 1, [3, 1]) == [[1, 3]]  # case-insensitive; CPUs sorted


@pytest.mark.parametrize("value, count, words", [
    ("block", 3, "needs a CPU per worker: 3 workers, 2 CPUs"),
    ("alternating", 3, "needs a CPU per worker"),
    ("list:0:1:0", 2, "3 CPU groups for 2 workers"),
    ("list:0:7", 2, "names CPUs [7]"),
])
def test_plans_that_cannot_apply_say_why(value: str, count: int, words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        affinity.plan(value, count, [0, 1])


@pytest.mark.parametrize("value", ["blocks", "list", "list:", "list:a", "list:1-", "list:3-1", "list:0;1", ""])
def test_bad_values_are_refused_by_the_config_naming_them(value: str) -> None:
    with pytest.raises(ConfigurationError, match=repr(value).replace("[", r"\[")):
        HighThroughputExecutor(cpu_affinity=value)


def test_config_carries_cpu_affinity_in_its_spec() -> None:
    assert HighThroughputExecutor().to_spec()["cpu_affinity"] == "none"
    htex = HighThroughputExecutor(cpu_affinity="Block-Reverse")
    assert htex.to_spec()["cpu_affinity"] == "block-reverse"
    htex.cpu_affinity = "list:0"  # Parsl's tests set it after making the executor
    assert htex.to_spec()["cpu_affinity"] == "list:0"
    with pytest.raises(ConfigurationError, match="'list:x'"):
        htex.cpu_affinity = "list:x"
    with pytest.raises(TypeError, match="cpu_affinity must be a str"):
        HighThroughputExecutor(cpu_affinity=1)


# MARK: managers


def facts_of_both_workers(manager: ManagerProcess) -> dict[int, dict]:
    """worker_facts from each of the manager's two workers (two tasks in one frame: one each)."""
    ids = manager.submit([manager.python_task(sample_apps.worker_facts) for _ in range(2)])
    facts = [result.value for result in manager.wait_results(ids).values()]
    by_rank = {int(fact["PARSL_WORKER_RANK"]): fact for fact in facts}
    assert sorted(by_rank) == [0, 1], facts
    return by_rank


def test_workers_get_parsl_worker_variables_and_no_pinning_by_default(start_manager) -> None:
    manager = start_manager(workers=2)
    facts = facts_of_both_workers(manager)
    for rank, fact in facts.items():
        assert fact["PARSL_WORKER_COUNT"] == "2" and fact["PARSL_WORKER_BLOCK_ID"] == "test-block"
        assert fact["cpus"] == CPUS
        assert fact["OMP_NUM_THREADS"] is None and fact["GOMP_CPU_AFFINITY"] is None
    pool = facts[0]["PARSL_WORKER_POOL_ID"]
    assert pool and pool == facts[1]["PARSL_WORKER_POOL_ID"]
    # Another manager is another pool.
    other = start_manager(workers=1)
    assert other.run(sample_apps.worker_facts).value["PARSL_WORKER_POOL_ID"] != pool


@needs_two_cpus
@pytest.mark.parametrize("value", ["block", "block-reverse", "alternating", f"list:{CPUS[-1]}:{CPUS[0]}"])
def test_each_worker_is_pinned_as_planned(start_manager, value: str) -> None:
    manager = start_manager(workers=2, args=("--cpu-affinity", value))
    planned = affinity.plan(value, 2, CPUS)
    facts = facts_of_both_workers(manager)
    for rank in (0, 1):
        cpus = planned[rank]
        fact = facts[rank]
        assert fact["cpus"] == cpus, (value, rank)
        listed = ",".join(map(str, cpus))
        assert fact["OMP_NUM_THREADS"] == str(len(cpus))
        assert fact["GOMP_CPU_AFFINITY"] == listed
        assert fact["KMP_AFFINITY"] == f"explicit,proclist=[{listed}]"
    assert facts[0]["cpus"] != facts[1]["cpus"]


@needs_two_cpus
def test_a_replacement_worker_is_pinned_like_the_one_it_replaces(start_manager) -> None:
    manager = start_manager(workers=1, args=("--cpu-affinity", f"list:{CPUS[1]}"))
    assert manager.run(sample_apps.worker_facts).value["cpus"] == [CPUS[1]]
    result = manager.run(sample_apps.exit_hard, 3)
    assert result.status == WORKER_LOST
    assert manager.run(sample_apps.worker_facts).value["cpus"] == [CPUS[1]]


@pytest.mark.parametrize("value, words", [
    ("sideways", "'sideways' is not one of"),
    ("block", "needs a CPU per worker"),
    ("list:0", "1 CPU groups for"),
])
def test_manager_refuses_an_affinity_it_cannot_apply(value: str, words: str) -> None:
    workers = str(len(CPUS) + 1)
    done = subprocess.run(
        [PY, "-m", "sprig.manager", "--workers", workers, "--block-id", "b", "--cpu-affinity", value],
        stdin=subprocess.DEVNULL, capture_output=True, env=manager_env(), cwd=str(PYTHON_DIR), timeout=30,
    )
    assert done.returncode == 2 and done.stdout == b""
    assert words in done.stderr.decode()
