"""sprig.futures and sprig.errors: futures completed the way the engine completes them (through
``_sprig_set_result`` / ``_sprig_set_failure``), and the exceptions built from failure dicts."""

from __future__ import annotations

import concurrent.futures
import pickle
import subprocess
import sys
import textwrap
import threading
import traceback

import pytest

from sprig import errors
from sprig.errors import (
    AppTimeout,
    BadStdStreamFile,
    BashAppNoReturn,
    BashExitFailure,
    DependencyError,
    ExecutorError,
    JoinError,
    KernelShutdownError,
    ManagerLost,
    MissingOutputs,
    RemoteException,
    SerializationError,
    SwiftAppError,
    TaskConversionError,
    TaskError,
    WorkerLost,
    exception_from_failure,
)
from sprig.files import File
from sprig.futures import AppFuture, DataFuture

REMOTE_TB = 'Traceback (most recent call last):\n  File "apps.py", line 3, in boom\n    raise ValueError("bad")\nValueError: bad\n'


class AppFailed(Exception):
    """An app's own exception type (picklable: defined at module level)."""


def python_failure(task_id=3, app="boom", **extra):
    info = {"kind": "python", "task_id": task_id, "app": app,
            "message": f"task {task_id} (app {app}) raised ValueError: bad",
            "type": "ValueError", "exc_message": "bad", "traceback": REMOTE_TB,
            "exception": None, "pickled_exception": None}
    info.update(extra)
    return info


def failed_future(info, outputs=()):
    future = AppFuture(info.get("app", "app"))
    future._outputs = [DataFuture(future, File(p)) for p in outputs]
    future._sprig_set_failure(info)
    return future


def notes(exc):
    return getattr(exc, "__notes__", [])


# MARK: results


def test_result_and_state():
    future = AppFuture("multiply")
    future._sprig_tid = 7
    assert not future.done()
    assert future.tid == 7 and future.task_id == 7 and future._sprig_tid == 7
    assert "tid=7" in repr(future) and "state=pending" in repr(future)
    assert future.task_status() == "pending"
    future._sprig_set_result(45)
    assert future.done()
    assert future.result() == 45
    assert future.result(timeout=0) == 45
    assert future.exception() is None
    assert "state=finished returned int" in repr(future)
    assert future.task_status() == "exec_done"


def test_a_done_future_does_not_keep_its_dependencies_alive():
    # A chain: each link was given the one before. Once a link is done, the earlier links are
    # garbage unless the script holds them (a 100,000-link chain kept every link before).
    import gc
    import weakref

    first = AppFuture("inc")
    first._sprig_set_result(1)
    second = AppFuture("inc")
    second._sprig_dependencies = [first]
    assert second.task_record["depends"] == [first]  # pending: held
    second._sprig_set_result(2)
    assert second.task_record["depends"] == [first]  # done, still held by the script: listed
    gone = weakref.ref(first)
    del first
    gc.collect()
    assert gone() is None
    assert second.task_record["depends"] == []


def test_a_failed_future_does_not_keep_its_dependencies_alive():
    import gc
    import weakref

    root = AppFuture("first")
    root._sprig_set_failure(python_failure(task_id=1, app="first"))
    dependent = AppFuture("second")
    dependent._sprig_dependencies = [root]
    info = base("dependency", "task 2 (app second) did not run", task_id=2, app="second") | {"failed": [1]}
    dependent._sprig_set_failure(info)
    exc = dependent.exception()
    assert exc.dependent_exceptions_tids[0][0] is root.exception()  # read while the dependency was held
    gone = weakref.ref(root)
    del root
    gc.collect()
    assert gone() is None


def test_a_finished_future_nobody_waited_for_costs_little_memory():
    # 10,000 futures submitted, completed, read and kept, as a fan-out keeps them: each used to
    # carry a threading.Condition (about 1.2 KB with its lock, deque and bound methods).
    import tracemalloc

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        futures = [AppFuture("inc") for _ in range(10_000)]
        for number, future in enumerate(futures):
            future._sprig_set_result(number)
        assert [f.result() for f in futures] == list(range(10_000))
        assert all(f.done() and not f.cancelled() and f.exception() is None for f in futures)
        per_future = (tracemalloc.get_traced_memory()[0] - before) / len(futures)
    finally:
        tracemalloc.stop()
    assert per_future < 900, f"{per_future:.0f} bytes per finished future"


def test_waiters_and_completion_racing_never_miss_a_wake_up():
    # Threads block in result(), exception(), wait() and as_completed() while another thread
    # completes the futures, in every order: each waiter returns, none hangs.
    for _ in range(50):
        futures = [AppFuture("race") for _ in range(8)]
        seen: list = []
        waiters = [threading.Thread(target=lambda f=f: seen.append(f.result(timeout=10))) for f in futures[:3]]
        waiters.append(threading.Thread(target=lambda: seen.append(futures[3].exception(timeout=10))))
        waiters.append(threading.Thread(target=lambda: seen.append(
            len(concurrent.futures.wait(futures[4:6], timeout=10).done))))
        waiters.append(threading.Thread(target=lambda: seen.append(
            sum(1 for _ in concurrent.futures.as_completed(futures[6:], timeout=10)))))
        for waiter in waiters:
            waiter.start()
        for number, future in enumerate(futures):
            future._sprig_set_result(number)
        for waiter in waiters:
            waiter.join(timeout=20)
            assert not waiter.is_alive()
        assert sorted(v for v in seen if v is not None) == [0, 1, 2, 2, 2] and seen.count(None) == 1


def test_callbacks_run_once_however_the_future_completes():
    early, late = AppFuture("early"), AppFuture("late")
    calls: list = []
    early.add_done_callback(lambda f: calls.append(("early", f.result())))
    early._sprig_set_result(1)
    late._sprig_set_result(2)  # (no condition made: completed unwatched)
    late.add_done_callback(lambda f: calls.append(("late", f.result())))
    assert calls == [("early", 1), ("late", 2)]
    with pytest.raises(concurrent.futures.InvalidStateError):
        late.set_result(3)
    with pytest.raises(concurrent.futures.InvalidStateError):
        early.set_result(3)


def test_result_waits_for_another_thread():
    future = AppFuture("slow")
    threading.Timer(0.05, future._sprig_set_result, args=("late",)).start()
    assert future.result(timeout=5) == "late"


def test_result_timeout():
    with pytest.raises(concurrent.futures.TimeoutError):
        AppFuture("never").result(timeout=0.01)


def test_callbacks_and_concurrent_futures_helpers():
    futures = [AppFuture(f"a{i}") for i in range(3)]
    seen = []
    futures[0].add_done_callback(lambda f: seen.append(f.result()))
    for i, future in enumerate(futures):
        future._sprig_set_result(i)
    assert seen == [0]
    done, not_done = concurrent.futures.wait(futures, timeout=1)
    assert len(done) == 3 and not not_done
    assert sorted(f.result() for f in concurrent.futures.as_completed(futures)) == [0, 1, 2]


def test_futures_cannot_be_cancelled():
    future = AppFuture("x")
    assert future.cancel() is False
    assert not future.cancelled()
    future._sprig_set_result(1)  # the engine can still complete it
    assert future.result() == 1


def test_stdout_and_stderr_are_what_the_call_gave():
    future = AppFuture("echo", "out.txt", ("err.txt", "w"))
    assert future.stdout == "out.txt" and future.stderr == ("err.txt", "w")
    assert AppFuture("x").stdout is None


def test_failure_sets_the_tid_when_it_came_first():
    future = failed_future(python_failure(task_id=12))
    assert future.tid == 12
    assert "state=failed raised RemoteException" in repr(future)


# MARK: data futures


def test_data_futures_follow_a_successful_parent():
    parent = AppFuture("writer")
    out = File("out.txt")
    data = DataFuture(parent, out)
    parent._outputs = [data]
    parent._sprig_tid = 4
    assert data.tid == 4 and data._sprig_tid == 4 and data._sprig_file is out
    assert data.filepath == "out.txt" and data.filename == "out.txt" and data.file_obj is out
    assert not data.done() and "state=pending" in repr(data) and "out.txt" in repr(data)
    parent._sprig_set_result(0)
    assert data.result(timeout=0) is out
    assert parent.outputs == [data]
    assert data.cancel() is False


def test_data_futures_fail_with_the_parents_exception():
    parent = failed_future(python_failure(exception=AppFailed("nope")), outputs=["a.txt", "b.txt"])
    assert [d.filepath for d in parent.outputs] == ["a.txt", "b.txt"]
    for data in parent.outputs:
        assert data.exception() is parent.exception()
        with pytest.raises(AppFailed):
            data.result()


# MARK: python failures


def test_the_original_exception_object_is_raised():
    original = AppFailed("the app failed")
    future = failed_future(python_failure(exception=original, type=f"{__name__}.AppFailed"))
    with pytest.raises(AppFailed) as caught:
        future.result()
    assert caught.value is original
    assert future.exception() is original
    assert notes(original) == [f"Remote traceback (task 3, app boom):\n{REMOTE_TB.rstrip()}"]


def test_an_exception_raised_here_keeps_its_own_traceback_and_gets_no_note():
    try:
        raise AppFailed("in process")
    except AppFailed as exc:
        original = exc
    future = failed_future(python_failure(exception=original))
    assert future.exception() is original
    assert notes(original) == []


def test_a_pickled_exception_is_rebuilt_with_its_type():
    info = python_failure(pickled_exception=pickle.dumps(AppFailed("from a worker")))
    exc = failed_future(info).exception()
    assert type(exc) is AppFailed and str(exc) == "from a worker"
    assert notes(exc) == [f"Remote traceback (task 3, app boom):\n{REMOTE_TB.rstrip()}"]


def test_a_builtin_pickled_exception():
    exc = failed_future(python_failure(pickled_exception=pickle.dumps(KeyError("k")))).exception()
    assert type(exc) is KeyError and exc.args == ("k",)


def test_an_unpicklable_exception_becomes_a_remote_exception():
    info = python_failure(type="mylib.errors.Custom", exc_message="it broke",
                          pickled_exception=b"\x80\x05not a pickle")
    exc = failed_future(info).exception()
    assert type(exc) is RemoteException
    assert exc.type_name == "mylib.errors.Custom"
    assert exc.exc_message == "it broke"
    assert exc.remote_traceback == REMOTE_TB
    assert exc.task_id == 3 and exc.app_name == "boom"
    assert str(exc) == "mylib.errors.Custom: it broke"
    assert notes(exc) == [f"Remote traceback (task 3, app boom):\n{REMOTE_TB.rstrip()}"]


def test_a_pickle_of_something_else_is_not_trusted_as_the_exception():
    exc = failed_future(python_failure(pickled_exception=pickle.dumps("just a string"))).exception()
    assert type(exc) is RemoteException and exc.type_name == "ValueError"


def test_without_exception_or_pickle_a_remote_exception():
    exc = failed_future(python_failure()).exception()
    assert type(exc) is RemoteException and str(exc) == "ValueError: bad"
    assert isinstance(exc, errors.SprigError)


def test_the_traceback_note_is_added_only_once():
    original = AppFailed("shared")
    failed_future(python_failure(exception=original))
    failed_future(python_failure(exception=original, task_id=9))
    assert len(notes(original)) == 1


def test_no_note_without_a_traceback():
    exc = failed_future(python_failure(traceback="", exception=AppFailed("x"))).exception()
    assert notes(exc) == []


def test_the_remote_traceback_is_printed_with_an_uncaught_exception():
    script = textwrap.dedent(f"""
        from sprig.futures import AppFuture
        future = AppFuture("boom")
        future._sprig_set_failure({python_failure(app="mymod.boom")!r})
        future.result()
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert run.returncode == 1
    assert "sprig.errors.RemoteException: ValueError: bad" in run.stderr
    assert "Remote traceback (task 3, app mymod.boom):" in run.stderr
    assert 'File "apps.py", line 3, in boom' in run.stderr
    assert run.stderr.count("Remote traceback") == 1


def test_traceback_format_exception_shows_the_note():
    exc = failed_future(python_failure(pickled_exception=pickle.dumps(AppFailed("x")))).exception()
    text = "".join(traceback.format_exception(exc))
    assert "Remote traceback (task 3, app boom):" in text and "raise ValueError" in text


# MARK: the other failure kinds


def base(kind, message, task_id=5, app="work"):
    return {"kind": kind, "task_id": task_id, "app": app, "message": message}


def test_bash_exit():
    exc = failed_future(base("bash_exit", "task 5 (app echo) failed with unix exit code 15", app="echo")
                        | {"exit_code": 15}).exception()
    assert type(exc) is BashExitFailure
    assert exc.exitcode == 15 and exc.app_name == "echo" and exc.task_id == 5
    assert str(exc) == "bash_app echo failed with unix exit code 15"  # Parsl's text
    assert exc.message == "task 5 (app echo) failed with unix exit code 15"
    assert isinstance(exc, errors.AppException) and isinstance(exc, errors.ParslError)


def test_timeout():
    exc = failed_future(base("timeout", "task 5 (app work) exceeded its walltime of 1.5 seconds")
                        | {"walltime": 1.5}).exception()
    assert type(exc) is AppTimeout and exc.walltime == 1.5
    assert str(exc) == "task 5 (app work) exceeded its walltime of 1.5 seconds"
    assert isinstance(exc, errors.AppException)


def test_bad_std_stream():
    exc = failed_future(base("bad_std_stream", "task 5 (app work) cannot redirect output to /nope/out: No such file")
                        | {"path": "/nope/out"}).exception()
    assert type(exc) is BadStdStreamFile and exc.path == "/nope/out"
    assert str(exc) == "Bad Stream File: task 5 (app work) cannot redirect output to /nope/out: No such file"


def test_missing_outputs():
    exc = failed_future(base("missing_outputs", "task 5 (app work) did not write its outputs: a.txt, b.txt")
                        | {"missing": ["a.txt", "b.txt"]}).exception()
    assert type(exc) is MissingOutputs
    assert exc.outputs == [File("a.txt"), File("b.txt")]
    assert exc.reason == "task 5 (app work) did not write its outputs: a.txt, b.txt"
    assert str(exc).startswith("Missing Outputs: [File('a.txt'), File('b.txt')], Reason: task 5")


@pytest.mark.parametrize("kind, cls", [
    ("bad_command", BashAppNoReturn),
    ("conversion", TaskConversionError),
    ("serialization", SerializationError),
    ("worker_lost", WorkerLost),
    ("manager_lost", ManagerLost),
    ("executor", ExecutorError),
    ("shutdown", KernelShutdownError),
    ("swift", SwiftAppError),
    ("something_new", TaskError),
])
def test_kinds_whose_text_is_the_engines_message(kind, cls):
    message = f"task 5 (app work) failed: {kind} details"
    exc = failed_future(base(kind, message)).exception()
    assert type(exc) is cls
    assert str(exc) == message and exc.message == message
    assert exc.task_id == 5 and exc.app_name == "work"
    assert isinstance(exc, TaskError)


def test_dependency_failure_names_the_task_the_failed_tids_and_the_root_cause():
    original = AppFailed("root problem")
    root = python_failure(task_id=1, app="first", exception=original)
    info = base("dependency", "task 3 (app third) did not run: ...", task_id=3, app="third") | {
        "failed": [2], "root": root}
    future = failed_future(info, outputs=["x.txt"])
    exc = future.exception()
    assert type(exc) is DependencyError
    assert exc.task_id == 3 and exc.app_name == "third"
    assert exc.failed_tids == [2]
    assert exc.root_cause is original and exc.root_task_id == 1
    assert exc.__cause__ is original
    assert exc.dependent_exceptions_tids == [(original, "task 2")]
    assert str(exc) == ("Dependency failure for task 3 (app third): its dependencies failed (task 2); "
                        f"the root cause is task 1: {__name__}.AppFailed: root problem")
    assert future.task_status() == "dep_fail"
    assert future.outputs[0].exception() is exc
    with pytest.raises(DependencyError):
        future.result()


def test_dependency_failure_with_several_failed_tids_and_a_task_error_root():
    root = base("bash_exit", "...", task_id=1, app="cmd") | {"exit_code": 2}
    info = base("dependency", "...", task_id=4, app="last") | {"failed": [2, 3], "root": root}
    exc = exception_from_failure(info)
    assert exc.failed_tids == [2, 3]
    assert type(exc.root_cause) is BashExitFailure
    assert [tid for _, tid in exc.dependent_exceptions_tids] == ["task 2", "task 3"]
    assert "its dependencies failed (task 2, task 3)" in str(exc)
    assert str(exc).endswith("the root cause is task 1: bash_app cmd failed with unix exit code 2")


def test_dependency_root_traceback_is_shown_when_uncaught():
    exc = exception_from_failure(base("dependency", "...", task_id=3) | {
        "failed": [2], "root": python_failure(task_id=1, app="first")})
    text = "".join(traceback.format_exception(exc))
    assert "Remote traceback (task 1, app first):" in text
    assert "The above exception was the direct cause of the following exception" in text
    assert "DependencyError: Dependency failure for task 3" in text


def test_join_failure_lists_every_inner_failure():
    inner = [python_failure(task_id=7, app="inner", exception=AppFailed("a")),
             base("worker_lost", "task 8 (app inner) lost its worker: killed", task_id=8, app="inner")]
    exc = failed_future(base("join", "task 6 (app outer) ...", task_id=6, app="outer") | {"failures": inner}
                        ).exception()
    assert type(exc) is JoinError
    assert [type(e) for e in exc.failures] == [AppFailed, WorkerLost]
    assert [tid for _, tid in exc.dependent_exceptions_tids] == ["task 7", "task 8"]
    assert exc.__cause__ is exc.failures[0]
    assert str(exc) == ("Join failure for task 6 (app outer): 2 joined task(s) failed "
                        f"(task 7: {__name__}.AppFailed: a; task 8: task 8 (app inner) lost its worker: killed)")


def test_a_malformed_failure_still_fails_the_future():
    future = failed_future({"kind": "bash_exit", "task_id": 2, "app": "x", "message": "m", "exit_code": "what"})
    exc = future.exception()
    assert type(exc) is TaskError and "m" in str(exc) and "could not be read" in str(exc)
    assert type(exception_from_failure("not a dict")) is TaskError  # type: ignore[arg-type]


# MARK: the exception classes themselves


def test_parsl_constructors_work():
    assert str(BashExitFailure("echo", 3)) == "bash_app echo failed with unix exit code 3"
    assert str(MissingOutputs("Missing outputs", [File("x")])) == "Missing Outputs: [File('x')], Reason: Missing outputs"
    assert str(BadStdStreamFile("bad path")) == "Bad Stream File: bad path"
    assert str(AppTimeout("too slow")) == "too slow"
    root = ValueError("v")
    dep = DependencyError([(root, "task 1")], 2)
    assert dep.failed_tids == [1] and dep.root_cause is root and dep.__cause__ is root
    assert str(dep) == "Dependency failure for task 2: its dependencies failed (task 1); the root cause is the root cause: ValueError: v"
    assert JoinError([(root, "task 1")], 2).failures == [root]


@pytest.mark.parametrize("exc", [
    BashExitFailure("echo", 3, task_id=1, message="m"),
    AppTimeout("slow", walltime=2.0, task_id=1, app_name="a"),
    MissingOutputs("r", [File("x")], task_id=1, app_name="a"),
    BadStdStreamFile("r", path="p", task_id=1, app_name="a"),
    WorkerLost("lost", task_id=1, app_name="a"),
    RemoteException("T", "m", "tb", task_id=1, app_name="a"),
    DependencyError([(ValueError("v"), "task 1")], 2, app_name="a", failed_tids=[1], root_task_id=1),
    JoinError([(ValueError("v"), "task 1")], 2, app_name="a"),
])
def test_exceptions_pickle(exc):
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc) and str(copy) == str(exc)
    assert copy.__dict__.keys() == exc.__dict__.keys()


def test_runtime_error_classes():
    assert issubclass(errors.NoConfigLoadedError, RuntimeError)
    assert issubclass(errors.EngineNotAvailableError, RuntimeError)
    assert issubclass(errors.ConfigAlreadyLoadedError, RuntimeError)
    assert errors.NoDataFlowKernelError is errors.NoConfigLoadedError
    message = " ".join(errors.NoConfigLoadedError().__notes__)
    assert "no config is loaded" in message
    assert "parsl.load(config)" in message and "sprig.load(config)" in message
    assert "sprig run --config threads|htex script.py" in message
    assert "sprig run script.py" in str(errors.EngineNotAvailableError())
