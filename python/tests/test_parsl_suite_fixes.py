"""Behaviour that Parsl's own test suite checks (scripts/parsl-tests), each pinned here without the
engine: parsl.app.python.timeout, parsl.jobs.states, dfk().task_state_counts, how a dependency
failure names a plain future, DataFlowKernelLoader._dfk and the no-config message, File's
Parsl semantics for any scheme, and tcp_url with IPv6."""

from __future__ import annotations

import concurrent.futures
import os
import sys
import time
from pathlib import Path

import pytest

from sprig import api, errors
from sprig.files import File
from sprig.futures import AppFuture, DataFuture
from sprig.states import States

COMPAT_DIR = Path(__file__).resolve().parents[1] / "sprig" / "compat"


def _forget_parsl() -> None:
    for name in [n for n in sys.modules if n == "parsl" or n.startswith("parsl.")]:
        del sys.modules[name]


@pytest.fixture
def parsl(monkeypatch):
    """The compat ``parsl`` package, imported fresh, and gone again afterwards."""
    _forget_parsl()
    monkeypatch.syspath_prepend(str(COMPAT_DIR))
    import parsl as module

    yield module
    _forget_parsl()
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "sprig_compat_unsupported", False)]


def python_failure(task_id: int, message: str = "bad") -> dict:
    return {"kind": "python", "task_id": task_id, "app": "boom", "message": f"task {task_id} raised ValueError",
            "type": "ValueError", "exc_message": message, "traceback": "", "exception": ValueError(message),
            "pickled_exception": None}


def dependency_failure(task_id: int, failed: list[int], root: dict) -> dict:
    return {"kind": "dependency", "task_id": task_id, "app": "copy", "failed": failed, "root": root,
            "message": f"task {task_id} failed: its dependencies failed"}


# MARK: parsl.app.python.timeout


def test_timeout_interrupts_a_call_that_runs_too_long(parsl):
    from parsl.app.errors import AppTimeout
    from parsl.app.python import timeout

    def spin(limit: float) -> str:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:  # bytecodes, so the exception can be delivered
            pass
        return "not interrupted"

    started = time.monotonic()
    with pytest.raises(AppTimeout, match=r"spin ran past its 0\.05 s timeout") as caught:
        timeout(spin, 0.05)(10)
    assert time.monotonic() - started < 5
    assert caught.value.walltime == 0.05


@pytest.mark.parametrize("fail", [False, True])
def test_timeout_is_cancelled_when_the_call_ends_first(parsl, fail):
    from parsl.app.python import timeout

    def quick() -> int:
        if fail:
            raise KeyError("own failure")
        return 7

    # A timeout far longer than the call, so that the call ends first even on a loaded machine
    # (0.05 s was once overrun there: the alarm fired inside the call, which is right, but not
    # what this test is about).
    wrapped = timeout(quick, 0.5)
    if fail:
        with pytest.raises(KeyError):
            wrapped()
    else:
        assert wrapped() == 7
    # Nothing arrives after the call: past the timeout, this thread still runs undisturbed.
    deadline = time.monotonic() + 0.7
    while time.monotonic() < deadline:
        pass


# MARK: parsl.jobs.states


def test_job_states_have_parsl_names_and_strings(parsl):
    from parsl.jobs.states import TERMINAL_STATES, JobState, JobStatus

    assert str(JobState.COMPLETED) == "JobState.COMPLETED" and isinstance(repr(JobState.COMPLETED), str)
    assert (JobState.UNKNOWN, JobState.RUNNING, JobState.SCALED_IN) == (0, 2, 9)
    assert JobState.COMPLETED in TERMINAL_STATES and JobState.RUNNING not in TERMINAL_STATES
    status = JobStatus(JobState.FAILED, message="exit 3", exit_code=3)
    assert status.terminal and status.status_name == "FAILED" and str(status) == "JobState.FAILED (exit 3)"
    assert "state=JobState.FAILED message=exit 3" in repr(status)
    assert status.stdout is None and status.stderr_summary is None


def test_job_status_summary_keeps_head_and_tail(parsl, tmp_path):
    from parsl.jobs.states import JobState, JobStatus

    out = tmp_path / "block.out"
    out.write_text("a" * 3000 + "z" * 3000)
    summary = JobStatus(JobState.RUNNING, stdout_path=str(out)).stdout_summary
    assert summary == "a" * 1024 + "\n...\n" + "z" * 1024
    assert JobStatus(JobState.RUNNING, stdout_path=str(tmp_path / "missing")).stdout_summary is None


def test_parsl_jobs_scaling_modules_give_one_line(parsl):
    with pytest.raises(ImportError, match=r"parsl\.jobs\.strategy is not provided by Sprig") as caught:
        import parsl.jobs.strategy  # noqa: F401
    assert caught.value.name == "parsl.jobs.strategy"


# MARK: dfk().task_state_counts


@pytest.fixture
def counts():
    api._final_counts.clear()
    yield
    api._final_counts.clear()


def test_task_state_counts_count_final_states(counts):
    kernel = api.DataFlowKernel._attached()
    assert kernel.task_state_counts[States.dep_fail] == 0
    AppFuture("ok")._sprig_set_result(1)
    root = AppFuture("boom")
    root._sprig_set_failure(python_failure(1))
    for tid in (2, 3):
        child = AppFuture("copy")
        child._sprig_dependencies = [root]
        child._sprig_set_failure(dependency_failure(tid, [1], python_failure(1)))
    AppFuture("cancelled")._sprig_set_failure({"kind": "cancelled", "task_id": 9})
    state_counts = kernel.task_state_counts
    assert (state_counts[States.exec_done], state_counts[States.failed], state_counts[States.dep_fail]) == (1, 2, 2)
    assert state_counts[States.memo_done] == 0  # a defaultdict(int), as in Parsl


def test_a_task_is_counted_before_its_future_completes(counts):
    seen = []
    future = AppFuture("copy")
    future._sprig_dependencies = [AppFuture("boom")]
    future.add_done_callback(lambda _: seen.append(api.DataFlowKernel._attached().task_state_counts[States.dep_fail]))
    future._sprig_set_failure(dependency_failure(4, [3], python_failure(3)))
    assert seen == [1]


# MARK: a dependency failure names a plain future as Parsl does


def test_dependency_error_names_a_plain_future_by_its_repr():
    plain = concurrent.futures.Future()
    plain.set_exception(ValueError("Plain failure"))
    future = AppFuture("copy")
    future._sprig_dependencies = [plain]
    future._sprig_set_failure(dependency_failure(3, [2], {"kind": "python", "task_id": None, "type": "ValueError",
                                                          "exc_message": "Plain failure", "exception": None}))
    exc = future.exception()
    assert isinstance(exc, errors.DependencyError)
    assert repr(plain) in str(exc)
    assert len(exc.dependent_exceptions_tids) == 1
    assert exc.dependent_exceptions_tids[0][0] is plain.exception()
    assert exc.dependent_exceptions_tids[0][1].startswith("<Future ")


def test_dependency_error_names_app_and_data_futures():
    parent = AppFuture("writer")
    parent._sprig_tid = 5
    data = DataFuture(parent, File("out.txt"))
    parent._outputs = [data]
    parent._sprig_set_failure(python_failure(5))
    future = AppFuture("reader")
    future._sprig_dependencies = [data, parent]
    future._sprig_set_failure(dependency_failure(6, [5], python_failure(5)))
    labels = [label for _, label in future.exception().dependent_exceptions_tids]
    assert labels == ["DataFuture from task 5", "task 5"]
    assert "(DataFuture from task 5, task 5)" in str(future.exception())


# MARK: DataFlowKernelLoader._dfk and the no-config message


def test_no_config_message_is_parsls_and_a_note_says_what_to_do():
    error = errors.NoDataFlowKernelError()
    assert str(error) == "Must first load config"  # Parsl's test_within_context_manger compares it
    (note,) = error.__notes__
    assert "parsl.load(config)" in note and "sprig run --config" in note
    import traceback

    assert "sprig run --config" in "".join(traceback.format_exception(error))
    assert str(errors.NoDataFlowKernelError("other words")) == "other words"


def test_a_bad_exit_mode_is_a_type_error_as_parsls_literal_type_makes_it():
    from sprig.config import Config

    with pytest.raises(TypeError, match="exit_mode must be 'cleanup', 'skip' or 'wait', not 'wrongmode'") as caught:
        Config(exit_mode="wrongmode")
    assert caught.type is TypeError  # Parsl's test_exit_wrong_mode checks the type's name


def test_loader_dfk_is_none_without_a_loaded_config(parsl):
    from parsl.dataflow.dflow import DataFlowKernelLoader

    assert DataFlowKernelLoader._dfk is None


def test_loader_dfk_is_the_loaded_kernel(parsl, monkeypatch):
    from parsl.dataflow.dflow import DataFlowKernelLoader

    class LoadedEngine:  # only what api.dfk() asks of the engine
        @staticmethod
        def loaded() -> bool:
            return True

    monkeypatch.setattr(api, "_engine_module", LoadedEngine)
    kernel = api.DataFlowKernel._attached()
    monkeypatch.setattr(api, "_current", kernel)
    assert DataFlowKernelLoader._dfk is kernel


# MARK: File with any scheme


@pytest.mark.parametrize("scheme", ["http", "https", "ftp", "globus", "asdfasdf"])
def test_a_file_of_any_scheme_is_a_value(scheme):
    url = f"{scheme}://host.example.org/data/in.csv"
    f = File(url)
    assert (f.url, f.scheme, f.netloc, f.path, f.filename, f.local_path) == (
        url, scheme, "host.example.org", "/data/in.csv", "in.csv", None)
    assert f == File(url) and f != File("/data/in.csv")
    assert f.cleancopy().url == url
    with pytest.raises(ValueError, match="No local_path set for .*no data staging") as caught:
        os.fspath(f)
    assert url in str(caught.value)
    f.local_path = "/tmp/fetched.csv"
    assert f.filepath == str(f) == "/tmp/fetched.csv"


def test_file_url_is_the_text_given_and_repr_is_parsls():
    assert File("some weird :// url").url == "some weird :// url"
    assert File("some weird :// url").path == "some weird :// url"
    f = File("https://some.netloc/some/path/name.txt")
    text = repr(f)
    assert text.startswith(f"<File at 0x{id(f):x} ") and text.endswith(">")
    for part in ("url=https://some.netloc/some/path/name.txt", "scheme=https", "netloc=some.netloc",
                 "path=/some/path/name.txt", "filename=name.txt"):
        assert f" {part}" in text


def test_messages_naming_files_do_not_need_a_local_path():
    remote = File("https://example.org/x")
    assert "Missing Outputs: [File('https://example.org/x'), File('a.txt')]" in str(
        errors.MissingOutputs("gone", [remote, File("a.txt")]))
    assert "https://example.org/x" in repr(DataFuture(AppFuture("app"), remote))


# MARK: tcp_url


@pytest.mark.parametrize("address, port, expected", [
    ("127.0.0.1", 55001, "tcp://127.0.0.1:55001"),
    ("::1", "55001", "tcp://[::1]:55001"),
    ("::ffff:127.0.0.1", None, "tcp://::ffff:127.0.0.1"),
    ("*", None, "tcp://*"),
    ("*", 55001, "tcp://*:55001"),
])
def test_tcp_url_brackets_ipv6_only_before_a_port(parsl, address, port, expected):
    from parsl.addresses import tcp_url

    assert tcp_url(address, port) == expected
