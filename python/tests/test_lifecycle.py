"""How a manager and its workers end: SHUTDOWN, end of input, refusals, signals, lost links."""

from __future__ import annotations

import os
import select
import signal
from pathlib import Path

import sample_apps
from client import Deadline, ManagerProcess, group_members, process_alive, wait_gone, wait_group_gone


def test_shutdown_stops_everything(manager: ManagerProcess) -> None:
    assert manager.run(sample_apps.add, 1, 1).value == 2
    manager.shutdown()
    assert manager.wait_exit(10) == 0
    manager.assert_all_gone()


def start_bash_sleeper(manager: ManagerProcess, tmp_path: Path) -> int:
    """Starts a bash app that sleeps in a child process; returns its process group (bash's pid)."""
    fifo = str(tmp_path / "bash.fifo")
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        manager.submit([manager.bash_task(f"echo $$ > {fifo}; sleep 60; true")])
        ready, _, _ = select.select([fd], [], [], 10)
        assert ready, "the bash app did not start"
        pgid = int(os.read(fd, 100).split()[0])
    finally:
        os.close(fd)
    assert len(group_members(pgid)) >= 1
    return pgid


def test_shutdown_kills_busy_workers_after_grace(start_manager, tmp_path: Path) -> None:
    manager = start_manager(workers=2)
    manager.submit([manager.python_task(sample_apps.sleep, 60)])
    pgid = start_bash_sleeper(manager, tmp_path)
    manager.wait_stats(lambda stats: stats["running"] == 2)
    manager.shutdown()
    assert manager.wait_exit(10) == 0
    manager.assert_all_gone()
    assert not wait_group_gone(pgid, 5), "the bash app outlived its manager"


def test_end_of_input_stops_everything_promptly(manager: ManagerProcess, tmp_path: Path) -> None:
    pgid = start_bash_sleeper(manager, tmp_path)
    manager.close_stdin()
    assert manager.wait_exit(1.5) == 0
    manager.assert_all_gone(1.0)
    assert not wait_group_gone(pgid, 1.0), "the bash app outlived its manager"


def test_refused_hello_ack_exits_3(start_manager) -> None:
    manager = start_manager(workers=2, handshake=False)
    manager.handshake(ok=False, error="wrong python")
    assert manager.wait_exit(10) == 3
    assert "wrong python" in manager.stderr_text()
    # Workers were started before the answer came: collect their pids from the log.
    pids = {
        int(line.split("(pid ")[1].split(")")[0]): None for line in manager.stderr_text().splitlines() if "started worker" in line
    }
    assert len(pids) == 2
    assert not wait_gone(pids, 5)


def test_no_results_before_the_ack(start_manager, tmp_path: Path) -> None:
    manager = start_manager(workers=1, handshake=False, args=("--heartbeat-period", "0.05"))
    assert manager.next_frame(1)  # HELLO, not answered yet
    fifo = str(tmp_path / "pid.fifo")
    os.mkfifo(fifo)
    fifo_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        (task_id,) = manager.submit([manager.python_task(sample_apps.report_pid, fifo)])
        ready, _, _ = select.select([fifo_fd], [], [], 10)
        assert ready, "the task did not run"
    finally:
        os.close(fifo_fd)
    # A few manager loop turns (heartbeats) after the task ran: its result is held back.
    seen = manager.heartbeats_received
    deadline = Deadline(5)
    while manager.heartbeats_received < seen + 3 and not deadline.passed():
        manager.pump(deadline)
    assert manager.heartbeats_received >= seen + 3
    assert task_id not in manager.results and not manager.stats
    manager.send(2, b'{"ok": true}')
    assert manager.wait_results([task_id])[task_id].value is None
    manager.wait_stats(lambda stats: len(stats["worker_pids"]) == 1)


def test_lost_heartbeats_stop_the_manager(start_manager) -> None:
    manager = start_manager(workers=2, args=("--heartbeat-threshold", "0.5", "--heartbeat-period", "0.1"), heartbeats=False)
    assert manager.wait_exit(5) == 5
    manager.assert_all_gone()
    assert manager.heartbeats_received >= 1


def test_sigterm_stops_everything(manager: ManagerProcess, tmp_path: Path) -> None:
    pgid = start_bash_sleeper(manager, tmp_path)
    os.kill(manager.pid, signal.SIGTERM)
    assert manager.wait_exit(5) == 128 + signal.SIGTERM
    manager.assert_all_gone()
    assert not wait_group_gone(pgid, 5), "the bash app outlived its manager"


def test_workers_die_with_a_sigkilled_manager(manager: ManagerProcess) -> None:
    manager.submit([manager.python_task(sample_apps.sleep, 60)])
    manager.wait_stats(lambda stats: stats["running"] == 1)
    os.kill(manager.pid, signal.SIGKILL)
    assert manager.wait_exit(5) == -signal.SIGKILL
    manager.assert_all_gone(5)


def test_idle_workers_exit_when_the_manager_is_gone(manager: ManagerProcess) -> None:
    pids = dict(manager.worker_pids)
    assert all(process_alive(pid, started) for pid, started in pids.items())
    os.kill(manager.pid, signal.SIGKILL)
    manager.wait_exit(5)
    assert not wait_gone(pids, 5)


def test_workers_that_cannot_start_end_the_manager(start_manager) -> None:
    from client import TESTS_DIR

    manager = start_manager(workers=2, handshake=False, extra_paths=[str(TESTS_DIR / "break_workers")])
    manager.handshake()
    (task_id,) = manager.submit([manager.python_task(sample_apps.add, 1, 2)])
    assert manager.wait_exit(10) == 4
    assert "died before they were ready" in manager.stderr_text()
    assert task_id not in manager.results  # never ran, so never reported lost
    pids = {
        int(line.split("(pid ")[1].split(")")[0]): None for line in manager.stderr_text().splitlines() if "started worker" in line
    }
    assert len(pids) >= 3
    assert not wait_gone(pids, 5)
