"""Fixtures for the sprig tests (run with /usr/bin/python3.11 -m pytest -q tests)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

if os.environ.get("SPRIG_TEST_HIDE_CLOUDPICKLE") == "1":
    sys.modules["cloudpickle"] = None  # type: ignore[assignment]

TESTS_DIR = Path(__file__).resolve().parent
for path in (str(TESTS_DIR.parent), str(TESTS_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)

from client import ManagerProcess, finish_managers  # noqa: E402
from sprig import serialize  # noqa: E402

needs_cloudpickle = pytest.mark.skipif(not serialize.has_cloudpickle(), reason="cloudpickle is not importable")


@pytest.fixture
def start_manager(tmp_path: Path) -> Iterator[Callable[..., ManagerProcess]]:
    """Starts managers for a test; whatever is left of them is killed (by PID) afterwards."""
    started: list[ManagerProcess] = []

    def start(workers: int = 2, args: tuple[str, ...] = (), handshake: bool = True, **kwargs) -> ManagerProcess:
        manager = ManagerProcess(
            workers=workers, args=args, stderr_path=tmp_path / f"manager-{len(started)}.err", **kwargs
        )
        started.append(manager)
        if handshake:
            manager.handshake()
            manager.wait_stats(lambda stats: len(stats["worker_pids"]) == workers)
        return manager

    yield start
    # Every test proves it leaves nothing behind: still-running managers are shut down, and the
    # manager and every worker pid it ever reported must be gone.
    finish_managers(started)


@pytest.fixture
def manager(start_manager: Callable[..., ManagerProcess]) -> ManagerProcess:
    """A manager with two workers, after the handshake."""
    return start_manager()
