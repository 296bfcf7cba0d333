"""Python tasks through a manager and its workers, as the interchange sends them."""

from __future__ import annotations

import os
import pickle
import platform
import select
import signal
import socket
import time
from pathlib import Path

import sample_apps
from client import FAILED, OK, WORKER_LOST, Deadline, ManagerProcess, hiding_cloudpickle, process_alive, wait_gone
from conftest import needs_cloudpickle
from sprig.serialize import Pickled


def read_pid(fifo_fd: int, seconds: float = 10) -> int:
    ready, _, _ = select.select([fifo_fd], [], [], seconds)
    assert ready, "the app never reported its pid"
    return int(os.read(fifo_fd, 100).decode().split()[0])


def open_gate(gate: str) -> None:
    fd = os.open(gate, os.O_WRONLY | os.O_NONBLOCK)  # the app opened it for reading already
    os.write(fd, b"go\n")
    os.close(fd)


def make_fifos(tmp_path: Path) -> tuple[str, str, int]:
    fifo, gate = str(tmp_path / "pid.fifo"), str(tmp_path / "gate.fifo")
    os.mkfifo(fifo)
    os.mkfifo(gate)
    return fifo, gate, os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)


def test_handshake_fields(manager: ManagerProcess) -> None:
    hello = manager.hello
    assert hello is not None
    assert hello["protocol"] == 4
    assert hello["hands_off_workers"] is False  # (no --worker-socket: the manager relays)
    assert hello["shared_memory"] is False  # (no --shared-memory: large buffers inline)
    assert hello["python"] == "3.11" and hello["python_full"].startswith("3.11.")
    assert hello["serializer"] in ("cloudpickle", "pickle")
    assert (hello["serializer"] == "cloudpickle") == bool(hello["serializer_version"])
    if hiding_cloudpickle():
        assert hello["serializer"] == "pickle"
    assert hello["host"] == socket.gethostname()
    assert hello["python_full"] == platform.python_version()
    assert hello["pid"] == manager.pid
    assert hello["workers"] == 2 and hello["block"] == "test-block"
    assert hello["executable"] == "/usr/bin/python3.11"
    stats = manager.stats[0]
    assert {"workers", "queued", "running", "worker_pids"} <= set(stats)
    # The manager leads its own process group; workers stay in it.
    assert os.getpgid(manager.pid) == manager.pid
    for pid in stats["worker_pids"]:
        assert os.getpgid(pid) == manager.pid


def test_module_function_result(manager: ManagerProcess) -> None:
    assert manager.run(sample_apps.add, 2, b=3).value == 5
    # Same function again: sent without its bytes (fn_len 0), the manager forwards from its cache.
    ids = manager.submit([manager.python_task(sample_apps.add, i, i) for i in range(10)])
    results = manager.wait_results(ids)
    assert [results[i].value for i in ids] == [2 * i for i in range(10)]


def test_thousand_noops_in_batches(manager: ManagerProcess) -> None:
    ids: list[int] = []
    for _ in range(10):
        ids += manager.submit([manager.python_task(sample_apps.noop) for _ in range(100)])
    results = manager.wait_results(ids, seconds=60)
    assert len(results) == 1000 and all(result.status == OK for result in results.values())
    assert all(result.value is None for result in results.values())


def test_exception_carries_remote_traceback(manager: ManagerProcess) -> None:
    info = manager.run(sample_apps.divide, 1, 0).info
    assert info["kind"] == "python"
    assert info["type"] == "ZeroDivisionError"
    assert info["message"] == "division by zero"
    assert "in divide" in info["traceback"] and "sample_apps.py" in info["traceback"]
    assert info["traceback"].rstrip().endswith("ZeroDivisionError: division by zero")
    custom = manager.run(sample_apps.raise_custom, "custom trouble").info
    assert custom["type"] == "sample_apps.AppError" and custom["message"] == "custom trouble"
    assert "raise_custom" in custom["traceback"]
    # sys.exit in an app is a failure of that task, not the end of the worker.
    exited = manager.run(sample_apps.exit_app, 4).info
    assert exited["type"] == "SystemExit" and exited["message"] == "4"
    assert manager.run(sample_apps.add, 1, 1).value == 2


@needs_cloudpickle
def test_lambda_and_closure(manager: ManagerProcess) -> None:
    offset = 100

    def closure(x: int) -> int:
        return x + offset

    assert manager.run(lambda x: x * 3, 5).value == 15
    assert manager.run(closure, 1).value == 101
    # A lambda as an argument travels by value too.
    assert manager.run(sample_apps.echo, lambda: 7).value() == 7


def test_pickled_arguments_in_nested_containers(manager: ManagerProcess) -> None:
    earlier = manager.run(sample_apps.add, 20, 22)
    assert earlier.status == OK
    # The interchange passes the result bytes along without unpickling them.
    marker = Pickled(earlier.data)
    args, kwargs = manager.run(
        sample_apps.identity, marker, [marker, (marker, 1)], {"x": marker, "y": [{"z": marker}]}, key=marker, other=(2, marker)
    ).value
    assert args == (42, [42, (42, 1)], {"x": 42, "y": [{"z": 42}]})
    assert kwargs == {"key": 42, "other": (2, 42)}
    assert manager.run(sample_apps.echo, Pickled(pickle.dumps({"nested": [1, 2]}))).value == {"nested": [1, 2]}


def test_unpicklable_result_is_a_serialization_failure(manager: ManagerProcess) -> None:
    result = manager.run(sample_apps.make_generator)
    assert result.status == FAILED
    info = result.info
    assert info["kind"] == "serialization"
    assert "generator" in info["message"] and f"task {result.task_id}" in info["message"]
    assert manager.run(sample_apps.add, 1, 2).value == 3


def test_print_goes_to_worker_log(start_manager, tmp_path: Path) -> None:
    logdir = tmp_path / "logs"
    manager = start_manager(workers=1, args=("--logdir", str(logdir)))
    assert manager.run(sample_apps.shout, "hello from the app").value == len("hello from the app")
    assert manager.run(sample_apps.add, 1, 2).value == 3  # the stream is intact
    log = (logdir / "worker-0.log").read_text()
    assert "hello from the app\n" in log and "to stderr: hello from the app" in log
    assert (logdir / "manager.log").exists()
    manager.shutdown()
    assert manager.wait_exit() == 0
    manager.assert_all_gone()


def test_worker_killed_mid_task(start_manager, tmp_path: Path) -> None:
    manager = start_manager(workers=1)
    fifo, gate, fifo_fd = make_fifos(tmp_path)
    try:
        first_pids = set(manager.stats[-1]["worker_pids"])
        entries = [manager.python_task(sample_apps.report_pid_and_sleep, fifo, 60)]
        entries += [manager.python_task(sample_apps.add, i, 1) for i in range(3)]
        sleeper, *others = manager.submit(entries)
        pid = read_pid(fifo_fd)
        assert pid in first_pids
        os.kill(pid, signal.SIGKILL)
        results = manager.wait_results([sleeper, *others])
        lost = results[sleeper]
        assert lost.status == WORKER_LOST
        info = lost.info
        assert info["pid"] == pid and info["signal"] == 9 and info["exit_code"] is None and info["worker"] == 0
        assert f"task {sleeper}" in info["message"] and "signal 9" in info["message"]
        # The prefetched tasks were not lost: they ran on the replacement.
        assert [results[i].value for i in others] == [1, 2, 3]
        new_pid = manager.run(sample_apps.getpid).value
        assert new_pid != pid and new_pid in manager.worker_pids
        assert not process_alive(pid)
    finally:
        os.close(fifo_fd)


def test_kill_task_running(start_manager, tmp_path: Path) -> None:
    manager = start_manager(workers=1)
    fifo, gate, fifo_fd = make_fifos(tmp_path)
    try:
        sleeper, follower = manager.submit(
            [manager.python_task(sample_apps.report_pid_and_sleep, fifo, 60), manager.python_task(sample_apps.add, 1, 1)]
        )
        pid = read_pid(fifo_fd)
        manager.kill_task(sleeper)
        assert manager.wait_results([follower])[follower].value == 2
        assert manager.run(sample_apps.getpid).value != pid
        assert sleeper not in manager.results  # no result for the killed task
        deadline = Deadline(5)
        while process_alive(pid) and not deadline.passed():
            manager.pump(Deadline(0.05))
        assert not process_alive(pid)
    finally:
        os.close(fifo_fd)


def test_kill_task_recalled_from_a_busy_worker(start_manager, tmp_path: Path) -> None:
    manager = start_manager(workers=1, args=("--heartbeat-period", "0.05"))
    fifo, gate, fifo_fd = make_fifos(tmp_path)
    try:
        blocker, victim, last = manager.submit(
            [
                manager.python_task(sample_apps.report_pid_and_wait, fifo, gate),
                manager.python_task(sample_apps.add, 1, 1),
                manager.python_task(sample_apps.add, 2, 2),
            ]
        )
        pid = read_pid(fifo_fd)
        # The worker is busy with a long task: what it held unstarted is back in the queue.
        manager.wait_stats(lambda stats: stats["queued"] == 2 and stats["running"] == 1)
        manager.kill_task(victim)
        manager.wait_stats(lambda stats: stats["queued"] == 1)
        open_gate(gate)
        results = manager.wait_results([blocker, last])
        assert results[blocker].value == pid  # the running task was not disturbed
        assert results[last].value == 4
        assert manager.run(sample_apps.getpid).value == pid  # same worker: nobody was killed
        manager.wait_stats(lambda stats: stats.get("kills_pending") == 0)
        assert victim not in manager.results
    finally:
        os.close(fifo_fd)


def test_no_short_task_waits_behind_a_long_one(start_manager) -> None:
    manager = start_manager(workers=2)
    (long_task,) = manager.submit([manager.python_task(sample_apps.sleep, 3)])
    short = manager.submit([manager.python_task(sample_apps.add, i, 1) for i in range(200)])
    results = manager.wait_results([long_task, *short], 30)
    assert [results[i].value for i in short] == [i + 1 for i in range(200)]
    assert results[long_task].value == 3
    order = manager.result_order
    waited = [i for i in short if order.index(i) > order.index(long_task)]
    assert not waited, f"{len(waited)} short tasks finished only after the long one"


def test_a_stopped_worker_is_killed_and_reported_lost_while_the_other_goes_on(start_manager, tmp_path: Path) -> None:
    threshold = 2.0
    manager = start_manager(workers=2, args=("--heartbeat-period", "0.2", "--heartbeat-threshold", str(threshold)))
    fifo, _gate, fifo_fd = make_fifos(tmp_path)
    try:
        (stuck,) = manager.submit([manager.python_task(sample_apps.report_pid_and_sleep, fifo, 60)])
        pid = read_pid(fifo_fd)
        os.kill(pid, signal.SIGSTOP)
        stopped_at = time.monotonic()
        short = manager.submit([manager.python_task(sample_apps.add, i, 1) for i in range(100)])
        # The other worker runs them meanwhile; the stopped one may hold a few it was given in the
        # first moments of its task (before it counted as busy), which it cannot give back.
        deadline = Deadline(threshold - 0.2)
        while sum(1 for i in short if i in manager.results) < 97 and manager.pump(deadline) and not deadline.passed():
            pass
        assert stuck not in manager.results
        assert sum(1 for i in short if i in manager.results) >= 97, "the other worker did not go on"
        lost = manager.wait_results([stuck], threshold + 3)[stuck]
        noticed = time.monotonic() - stopped_at
        results = manager.wait_results(short)
        assert [results[i].value for i in short] == [i + 1 for i in range(100)]
        assert lost.status == WORKER_LOST
        assert lost.info["pid"] == pid and lost.info["signal"] == 9
        assert "stopped answering" in lost.info["message"] and f"task {stuck}" in lost.info["message"]
        assert threshold <= noticed < threshold + 1.5, f"noticed after {noticed:.2f} s"
        assert not process_alive(pid) or wait_gone({pid: None}, 2) == []
        assert manager.run(sample_apps.getpid).status == OK  # replaced
    finally:
        os.close(fifo_fd)


def test_kill_task_still_queued(start_manager, tmp_path: Path) -> None:
    manager = start_manager(workers=1, args=("--prefetch", "0", "--heartbeat-period", "0.05"))
    fifo, gate, fifo_fd = make_fifos(tmp_path)
    try:
        blocker, victim = manager.submit(
            [manager.python_task(sample_apps.report_pid_and_wait, fifo, gate), manager.python_task(sample_apps.add, 1, 1)]
        )
        pid = read_pid(fifo_fd)
        manager.wait_stats(lambda stats: stats["queued"] == 1)
        manager.kill_task(victim)
        manager.wait_stats(lambda stats: stats["queued"] == 0)
        open_gate(gate)
        assert manager.wait_results([blocker])[blocker].value == pid
        assert manager.run(sample_apps.getpid).value == pid
        assert victim not in manager.results
    finally:
        os.close(fifo_fd)


def test_large_payloads_both_ways(manager: ManagerProcess) -> None:
    size = 1 << 20
    payloads = [bytes([i]) * size for i in range(20)]
    ids = manager.submit([manager.python_task(sample_apps.echo, payload) for payload in payloads])
    results = manager.wait_results(ids, seconds=60)
    assert [results[i].value for i in ids] == payloads
    # Big results from small calls, too.
    ids = manager.submit([manager.python_task(sample_apps.big_bytes, size + i) for i in range(20)])
    results = manager.wait_results(ids, seconds=60)
    assert [len(results[i].value) for i in ids] == [size + i for i in range(20)]


def test_unknown_function_key_fails_at_the_manager(manager: ManagerProcess) -> None:
    from client import PYTHON, encode_task
    from sprig import serialize

    task_id = manager.new_id()
    manager.submit([(task_id, encode_task(task_id, PYTHON, 99_999, b"", None, serialize.dumps_call((), {})))])
    info = manager.wait_results([task_id])[task_id].info
    assert info["kind"] == "serialization" and "99999" in info["message"]


def test_startup_latency_and_memory(start_manager) -> None:
    manager = start_manager(workers=2, handshake=False)
    manager.handshake()
    assert manager.run(sample_apps.add, 1, 2).value == 3
    first = __import__("time").monotonic() - manager.started_at
    assert first < 2.0, f"first result after {first:.3f} s"
    stats = manager.wait_stats(lambda stats: len(stats["worker_pids"]) == 2)
    total_kb = 0
    for pid in [manager.pid, *stats["worker_pids"]]:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
    assert total_kb < 60 * 1024, f"manager and two workers use {total_kb} kB"


def test_a_heartbeat_period_past_what_poll_takes_does_not_kill_the_manager(start_manager) -> None:
    # poll() takes at most 2**31-1 ms (~24.8 days); a longer period (or "forever") crashed it.
    manager = start_manager(args=("--heartbeat-period", "3e6", "--heartbeat-threshold", "1e300"))
    assert manager.run(sample_apps.add, 2, b=3).value == 5
