"""Bash apps (kinds 1 and 2) through a manager."""

from __future__ import annotations

import os
import select
from pathlib import Path

import sample_apps
from client import FAILED, Deadline, ManagerProcess, process_alive, wait_group_gone


def run_one(manager: ManagerProcess, entry: tuple[int, bytes]):
    (task_id,) = manager.submit([entry])
    return manager.wait_results([task_id])[task_id]


def test_success_returns_zero(manager: ManagerProcess, tmp_path: Path) -> None:
    assert run_one(manager, manager.bash_task("true")).value == 0


def test_exit_code(manager: ManagerProcess) -> None:
    result = run_one(manager, manager.bash_task("exit 15"))
    assert result.status == FAILED
    info = result.info
    assert info["kind"] == "bash_exit" and info["exit_code"] == 15


def test_unknown_command_exits_127(manager: ManagerProcess) -> None:
    info = run_one(manager, manager.bash_task("no-such-command-sprig-test")).info
    assert info["kind"] == "bash_exit" and info["exit_code"] == 127


def test_killed_by_signal_is_128_plus_n(manager: ManagerProcess) -> None:
    info = run_one(manager, manager.bash_task("kill -TERM $$")).info
    assert info["kind"] == "bash_exit" and info["exit_code"] == 128 + 15


def test_stdout_appends_by_default(manager: ManagerProcess, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "dir" / "out.txt"  # parent folders are created
    for word in ("one", "two"):
        assert run_one(manager, manager.bash_task(f"echo {word}", stdout=[str(out), "a"])).value == 0
    assert out.read_text() == "one\ntwo\n"
    # null mode means append as well
    assert run_one(manager, manager.bash_task("echo three", stdout=[str(out), None])).value == 0
    assert out.read_text() == "one\ntwo\nthree\n"


def test_mode_w_truncates(manager: ManagerProcess, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    out.write_text("old content\n")
    assert run_one(manager, manager.bash_task("echo new", stdout=[str(out), "w"])).value == 0
    assert out.read_text() == "new\n"


def test_stderr_and_shared_target(manager: ManagerProcess, tmp_path: Path) -> None:
    err = tmp_path / "err.txt"
    both = tmp_path / "both.txt"
    assert run_one(manager, manager.bash_task("echo oops >&2", stderr=[str(err), "w"])).value == 0
    assert err.read_text() == "oops\n"
    command = "echo out; echo err >&2; echo out2"
    assert run_one(manager, manager.bash_task(command, stdout=[str(both), "w"], stderr=[str(both), "w"])).value == 0
    assert both.read_text() == "out\nerr\nout2\n"


def test_bad_stdout_path(manager: ManagerProcess) -> None:
    info = run_one(manager, manager.bash_task("echo x", stdout=["/dev/null/x/out.txt", "a"])).info
    assert info["kind"] == "bad_std_stream" and info["path"] == "/dev/null/x/out.txt"
    assert info["message"]


def test_missing_outputs(manager: ManagerProcess, tmp_path: Path) -> None:
    made, missing = tmp_path / "made.txt", tmp_path / "missing.txt"
    result = run_one(manager, manager.bash_task(f"touch {made}", outputs=[str(made), str(missing)]))
    info = result.info
    assert info["kind"] == "missing_outputs" and info["missing"] == [str(missing)]
    assert run_one(manager, manager.bash_task(f"touch {missing}", outputs=[str(made), str(missing)])).value == 0


def test_command_from_python_function(manager: ManagerProcess, tmp_path: Path) -> None:
    out = tmp_path / "echo.txt"
    assert run_one(manager, manager.bash_python_task(sample_apps.command_echo, "hi", stdout=[str(out), "w"])).value == 0
    assert out.read_text() == "hi\n"
    info = run_one(manager, manager.bash_python_task(sample_apps.command_exit, 3)).info
    assert info["kind"] == "bash_exit" and info["exit_code"] == 3
    bad = run_one(manager, manager.bash_python_task(sample_apps.not_a_command)).info
    assert bad["kind"] == "bad_command" and "int" in bad["message"]
    raised = run_one(manager, manager.bash_python_task(sample_apps.divide, 1, 0)).info
    assert raised["kind"] == "python" and raised["type"] == "ZeroDivisionError"


def test_command_output_does_not_reach_the_protocol(manager: ManagerProcess) -> None:
    # No stdout target: output goes to the worker's log, never into the result stream.
    assert run_one(manager, manager.bash_task("echo noise; echo more noise >&2; head -c 100 /dev/zero")).value == 0
    assert manager.run(sample_apps.add, 1, 1).value == 2


def test_kill_task_kills_the_bash_process_group(start_manager, tmp_path: Path) -> None:
    manager = start_manager(workers=1)
    fifo = str(tmp_path / "pid.fifo")
    os.mkfifo(fifo)
    fifo_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        (task_id,) = manager.submit([manager.bash_python_task(sample_apps.child_pid_sleeper, fifo)])
        ready, _, _ = select.select([fifo_fd], [], [], 10)
        assert ready, "the command never reported its pid"
        bash_pid = int(os.read(fifo_fd, 100).split()[0])
        assert process_alive(bash_pid)
        manager.kill_task(task_id)
        assert manager.run(sample_apps.add, 2, 2).value == 4
        deadline = Deadline(5)
        while process_alive(bash_pid) and not deadline.passed():
            manager.pump(Deadline(0.05))
        assert not process_alive(bash_pid), "the bash command outlived its killed task"
        assert not wait_group_gone(bash_pid, 5), "a process of the bash command outlived its killed task"
        assert task_id not in manager.results
    finally:
        os.close(fifo_fd)
