"""Apps the tests send to workers (importable by workers: tests/ is on their PYTHONPATH)."""

from __future__ import annotations

import os
import select
import sys
import time
from typing import Any


class AppError(Exception):
    """A custom exception raised by an app."""


def add(a: int, b: int) -> int:
    return a + b


def noop() -> None:
    return None


def echo(value: Any) -> Any:
    return value


def getpid() -> int:
    return os.getpid()


def identity(*args: Any, **kwargs: Any) -> tuple:
    return args, kwargs


def divide(a: float, b: float) -> float:
    return a / b


def raise_custom(message: str) -> None:
    raise AppError(message)


def exit_app(code: int) -> None:
    sys.exit(code)


def make_generator() -> Any:
    return (i for i in range(3))


def shout(text: str) -> int:
    print(text)
    print("to stderr:", text, file=sys.stderr)
    return len(text)


def report_pid(fifo: str) -> None:
    """Writes this worker's pid (one line) to a FIFO the test reads."""
    with open(fifo, "w") as handle:
        handle.write(f"{os.getpid()}\n")


def report_pid_and_sleep(fifo: str, seconds: float) -> int:
    report_pid(fifo)
    time.sleep(seconds)
    return os.getpid()


def report_pid_and_wait(fifo: str, gate: str, seconds: float = 30) -> int:
    """Reports the pid, then blocks until the test writes to the gate FIFO (or ``seconds`` pass)."""
    gate_fd = os.open(gate, os.O_RDONLY | os.O_NONBLOCK)  # open before reporting: the test may write at once
    try:
        report_pid(fifo)
        ready, _, _ = select.select([gate_fd], [], [], seconds)
        if not ready:
            raise TimeoutError("the test never opened the gate")
        os.read(gate_fd, 100)
    finally:
        os.close(gate_fd)
    return os.getpid()


def command_exit(code: int) -> str:
    return f"exit {code}"


def command_echo(text: str) -> str:
    return f"echo {text}"


def not_a_command() -> int:
    return 42


def big_bytes(size: int) -> bytes:
    return bytes(range(256)) * (size // 256) + b"x" * (size % 256)


def child_pid_sleeper(fifo: str) -> str:
    """A bash command (kind 1) that reports its own pid to a FIFO and sleeps."""
    return f"echo $$ > {fifo}; sleep 60"


def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def worker_facts() -> dict:
    """What a worker knows of its place: Parsl's worker variables, its CPUs, the OpenMP ones."""
    names = ("PARSL_WORKER_RANK", "PARSL_WORKER_COUNT", "PARSL_WORKER_POOL_ID", "PARSL_WORKER_BLOCK_ID",
             "OMP_NUM_THREADS", "GOMP_CPU_AFFINITY", "KMP_AFFINITY")
    return {"cpus": sorted(os.sched_getaffinity(0)), **{name: os.environ.get(name) for name in names}}


def exit_hard(code: int) -> None:
    """Ends the worker process at once (its task is lost)."""
    os._exit(code)


def buffer_kinds(*args: Any, **kwargs: Any) -> list[str]:
    """The type names of the arguments, positional then keyword (in order)."""
    return [type(value).__name__ for value in (*args, *kwargs.values())]


def make_bytes(size: int) -> bytes:
    return bytes(range(256)) * (size // 256)


def wait_for_file_then_echo(marker: str, path: str, value: Any, seconds: float = 30) -> Any:
    """Makes ``marker`` (its arguments are read by then), returns ``value`` once ``path`` exists
    (at most ``seconds`` later)."""
    import time

    open(marker, "w").close()
    deadline = time.monotonic() + seconds
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)
    return value
