"""The execution contract of bash apps on workers (PROTOCOL.md, "Bash apps"): stdin is /dev/null,
the command leads a session of its own, stdout and stderr naming one file share one descriptor,
and no process of the command outlives its task, whether it ends by itself, by KILL_TASK
(walltime) or by the manager stopping; a kill is SIGTERM first, SIGKILL after a short grace."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from client import WORKER_LOST, Deadline, ManagerProcess, process_alive, start_time, wait_gone


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as handle:
        text = handle.read()
    return int(text[text.rfind(")") + 2 :].split()[1])


def run_one(manager: ManagerProcess, entry: tuple[int, bytes]):
    (task_id,) = manager.submit([entry])
    return manager.wait_results([task_id])[task_id]


def read_words(fd: int, seconds: float = 10) -> list[str]:
    """The words a command wrote to a FIFO (opened non-blocking before the task was sent)."""
    deadline = Deadline(seconds)
    data = b""
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], deadline.left())
        assert ready, f"the command wrote nothing in {seconds} s"
        data += os.read(fd, 1000)
    return data.decode().split()


def fifo_in(tmp_path: Path) -> tuple[str, int]:
    path = str(tmp_path / "report.fifo")
    os.mkfifo(path)
    return path, os.open(path, os.O_RDONLY | os.O_NONBLOCK)


def test_stdin_is_dev_null(manager: ManagerProcess, tmp_path: Path) -> None:
    out = tmp_path / "stdin.txt"
    assert run_one(manager, manager.bash_task("readlink /proc/self/fd/0; cat", stdout=[str(out), "w"])).value == 0
    assert out.read_text() == "/dev/null\n"


def test_command_leads_a_session_of_its_own(manager: ManagerProcess, tmp_path: Path) -> None:
    out = tmp_path / "ids.txt"
    # fields 5 and 6 of /proc/PID/stat: process group and session
    command = "echo $$ $(cut -d' ' -f5,6 /proc/$$/stat)"
    assert run_one(manager, manager.bash_task(command, stdout=[str(out), "w"])).value == 0
    pid, group, session = out.read_text().split()
    assert pid == group == session


def test_one_file_for_both_streams_is_opened_once_whatever_the_modes(manager: ManagerProcess, tmp_path: Path) -> None:
    both = tmp_path / "both.txt"
    both.write_text("old contents\n")
    command = "echo out; echo err >&2; echo out2"
    # Named the same file twice, with different modes and spellings: opened once (truncated, as
    # one of them asks), so neither stream overwrites the other.
    other_spelling = str(tmp_path / "." / "both.txt")
    assert run_one(manager, manager.bash_task(command, stdout=[str(both), "w"], stderr=[other_spelling, "a"])).value == 0
    assert both.read_text() == "out\nerr\nout2\n"
    assert run_one(manager, manager.bash_task(command, stdout=[str(both), "a"], stderr=[str(both), "a"])).value == 0
    assert both.read_text() == "out\nerr\nout2\n" * 2


def test_a_background_process_does_not_outlive_its_finished_task(manager: ManagerProcess, tmp_path: Path) -> None:
    out = tmp_path / "pid.txt"
    assert run_one(manager, manager.bash_task("sleep 100 & echo $!", stdout=[str(out), "w"])).value == 0
    sleeper = int(out.read_text())
    assert not wait_gone({sleeper: None}, 5), "sleep outlived the task that started it"


def start_sleeper(manager: ManagerProcess, tmp_path: Path, prefix: str = "") -> tuple[int, int, int]:
    """(task id, bash pid, background sleep pid) of a running ``PREFIX sleep 100 & wait``."""
    fifo, fd = fifo_in(tmp_path)
    try:
        (task_id,) = manager.submit([manager.bash_task(f"{prefix}sleep 100 & echo $$ $! > {fifo}; wait")])
        bash, sleeper = map(int, read_words(fd))
    finally:
        os.close(fd)
    return task_id, bash, sleeper


def test_walltime_kill_ends_the_whole_group_sigterm_first(start_manager, tmp_path: Path) -> None:
    manager = start_manager(workers=1)
    marker = tmp_path / "cleaned.txt"
    # `sleep 100 & wait`: bash waits for its background child; its TERM trap leaves a mark.
    task_id, bash, sleeper = start_sleeper(manager, tmp_path, f"trap 'echo cleaned > {marker}; exit 1' TERM; ")
    manager.kill_task(task_id)  # what the interchange sends when the task's walltime is up
    assert manager.run(os.getpid).status == 0  # the worker was replaced
    assert not wait_gone({bash: None, sleeper: None}, 5), "a process of the killed command lived on"
    assert marker.read_text() == "cleaned\n", "the command got no SIGTERM before being killed"
    assert task_id not in manager.results


def test_a_command_ignoring_sigterm_is_killed_after_the_grace(start_manager, tmp_path: Path) -> None:
    manager = start_manager(workers=1)
    task_id, bash, sleeper = start_sleeper(manager, tmp_path, "trap '' TERM; ")
    manager.kill_task(task_id)
    deadline = Deadline(5)
    while (process_alive(bash) or process_alive(sleeper)) and not deadline.passed():
        manager.pump(Deadline(0.05))
    assert not process_alive(bash) and not process_alive(sleeper)


def test_stopping_the_manager_ends_running_commands(start_manager, tmp_path: Path) -> None:
    manager = start_manager(workers=1)
    _task_id, bash, sleeper = start_sleeper(manager, tmp_path)
    manager.shutdown()
    assert manager.wait_exit(10) == 0
    assert not wait_gone({bash: None, sleeper: None}, 5), "a command outlived the manager's shutdown"


def test_sigterm_to_a_worker_ends_its_command(start_manager, tmp_path: Path) -> None:
    manager = start_manager(workers=1)
    _task_id, bash, sleeper = start_sleeper(manager, tmp_path)
    (worker,) = manager.stats[-1]["worker_pids"]
    os.kill(worker, 15)
    assert not wait_gone({bash: None, sleeper: None}, 5), "a command outlived its worker's SIGTERM"


def start_escapers(manager: ManagerProcess, tmp_path: Path, prefix: str = "") -> tuple[int, dict[int, int | None]]:
    """(task id, {pid: start time}) of a running command that leaves processes in three places:
    bash itself, a background ``sleep`` in its group, and a ``setsid sleep`` in a session of its
    own (still bash's child)."""
    fifo, fd = fifo_in(tmp_path)
    try:
        command = f"{prefix}sleep 100 & a=$!; setsid sleep 100 & echo $$ $a $! > {fifo}; wait"
        (task_id,) = manager.submit([manager.bash_task(command)])
        pids = list(map(int, read_words(fd)))
    finally:
        os.close(fd)
    return task_id, {pid: start_time(pid) for pid in pids}


def kill_leftovers(pids: dict[int, int | None]) -> None:
    """Test clean-up: SIGKILLs those of the test's own command processes that still live."""
    for pid, started in pids.items():
        if process_alive(pid, started):
            os.kill(pid, signal.SIGKILL)


def test_a_killed_workers_command_is_killed_before_its_task_is_reported_lost(start_manager, tmp_path: Path) -> None:
    manager = start_manager(workers=1)
    task_id, pids = start_escapers(manager, tmp_path)
    try:
        bash = next(iter(pids))
        worker = parent_of(bash)
        assert worker in manager.worker_pids
        os.kill(worker, signal.SIGKILL)
        assert manager.wait_results([task_id])[task_id].status == WORKER_LOST
        assert not wait_gone(pids, 2), "a process of the lost task's command lived on after its worker's SIGKILL"
        assert manager.run(os.getpid).status == 0  # the block goes on
    finally:
        kill_leftovers(pids)


@pytest.mark.parametrize("target", ["group", "manager"])
def test_sigterm_to_the_manager_or_its_group_ends_every_command_within_a_second(start_manager, tmp_path: Path, target: str) -> None:
    # What the engine does on Ctrl-C: SIGTERM to the manager's process group ("group"), then
    # SIGKILL to it after about 1 s. Commands ignoring SIGTERM must be SIGKILLed by then.
    manager = start_manager(workers=2)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _first, pids = start_escapers(manager, tmp_path / "a", "trap '' TERM; ")
    _second, more = start_escapers(manager, tmp_path / "b", "trap '' TERM; ")
    pids.update(more)
    try:
        began = time.monotonic()
        if target == "group":
            os.killpg(manager.pid, signal.SIGTERM)
        else:
            os.kill(manager.pid, signal.SIGTERM)
        try:
            manager.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            os.killpg(manager.pid, signal.SIGKILL)  # as the engine would
        took = time.monotonic() - began
        assert manager.wait_exit(5) == 128 + signal.SIGTERM, f"the manager did not finish within 1 s ({took:.2f} s)"
        assert not wait_gone(pids, 0.5), f"a command outlived SIGTERM to its manager ({target})"
        assert took < 0.8, f"the manager took {took:.2f} s to stop"
    finally:
        kill_leftovers(pids)


def test_sigkill_of_the_manager_alone_ends_its_workers_commands(start_manager, tmp_path: Path) -> None:
    manager = start_manager(workers=1)
    _task_id, pids = start_escapers(manager, tmp_path)
    try:
        os.kill(manager.pid, signal.SIGKILL)
        manager.wait_exit(5)
        assert not wait_gone(pids, 3), "a command outlived its manager's SIGKILL"
    finally:
        kill_leftovers(pids)
