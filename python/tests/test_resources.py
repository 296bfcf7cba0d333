"""Resource samples (PROTOCOL.md, "RESOURCE"): what sprig.resources reads from /proc, and when a
worker (and through it a manager) sends them — at the end of every try, and every interval while
one runs — only when asked with --resource-interval."""

from __future__ import annotations

import os
import select
import struct
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

import sample_apps
from client import PY, RESOURCE, STARTED, Deadline, ManagerProcess, encode_task, wait_gone
from sprig.resources import Sampler, decode
from test_worker import RawWorker

INTERVAL = 0.2
BUSY = "import time\nstart = time.process_time()\nwhile time.process_time() - start < {0}: pass\n"


def status_fields() -> dict[str, int]:
    """VmRSS and VmSize (bytes) and Threads of this process, read independently of the sampler."""
    fields: dict[str, int] = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmSize"):
                fields[name] = int(value.split()[0]) * 1024
            elif name == "Threads":
                fields[name] = int(value)
    return fields


def burn(seconds: float) -> None:
    exec(BUSY.format(seconds))


def test_a_sample_reads_this_process_from_proc() -> None:
    sampler = Sampler(INTERVAL)
    before = time.time()
    sample = decode(sampler.sample(descendants=False))
    facts = status_fields()
    assert sample["psutil_process_pid"] == os.getpid()
    assert abs(sample["psutil_process_memory_resident"] - facts["VmRSS"]) < 4 << 20
    assert abs(sample["psutil_process_memory_virtual"] - facts["VmSize"]) < 16 << 20
    assert sample["psutil_process_num_threads"] == facts["Threads"]
    with open("/proc/meminfo") as handle:
        total = int(handle.readline().split()[1]) * 1024
    assert sample["psutil_process_memory_percent"] == pytest.approx(100 * sample["psutil_process_memory_resident"] / total)
    assert sample["psutil_process_status"] == "running"  # (it is this thread, reading)
    assert 0 <= sample["psutil_cpu_num"] < (os.cpu_count() or 1)
    assert sample["psutil_process_disk_read"] > 0  # pytest read files
    assert sample["psutil_process_children_count"] == 0
    assert sample["psutil_process_num_ctx_switches_voluntary"] + sample["psutil_process_num_ctx_switches_involuntary"] > 0
    assert before <= sample["timestamp"] <= time.time()


def test_cpu_time_is_the_processs_since_it_started() -> None:
    sampler = Sampler(INTERVAL)
    first = decode(sampler.sample(descendants=False))
    times = os.times()
    assert first["psutil_process_time_user"] == pytest.approx(times.user, abs=0.03)
    assert first["psutil_process_time_system"] == pytest.approx(times.system, abs=0.03)
    burn(0.3)
    second = decode(sampler.end_of_try())
    assert second["psutil_process_time_user"] + second["psutil_process_time_system"] >= (
        first["psutil_process_time_user"] + first["psutil_process_time_system"] + 0.25)


def test_descendants_count_while_they_live_and_their_cpu_time_until_the_try_ends() -> None:
    sampler = Sampler(INTERVAL)
    alone = decode(sampler.sample(descendants=True))
    child = subprocess.Popen([PY, "-c", BUSY.format(0.4) + "print('busy', flush=True)\nimport sys\nsys.stdin.read()\n"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdin is not None
        ready, _, _ = select.select([child.stdout], [], [], 20)
        assert ready and child.stdout.readline() == b"busy\n"
        live = decode(sampler.sample(descendants=True))
        assert live["psutil_process_children_count"] == 1
        assert live["psutil_process_memory_resident"] > alone["psutil_process_memory_resident"] + (2 << 20)
        assert live["psutil_process_num_threads"] > alone["psutil_process_num_threads"]
        cpu = live["psutil_process_time_user"] + live["psutil_process_time_system"]
        assert cpu >= alone["psutil_process_time_user"] + alone["psutil_process_time_system"] + 0.35
        child.stdin.close()
        assert child.wait(timeout=20) == 0  # reaped: its CPU time is in this process's
        ended = decode(sampler.end_of_try())
        assert ended["psutil_process_children_count"] == 0
        assert ended["psutil_process_time_user"] + ended["psutil_process_time_system"] >= cpu
        # The next try counts only what is reaped from now on.
        after = decode(sampler.sample(descendants=True))
        assert after["psutil_process_time_user"] + after["psutil_process_time_system"] < cpu - 0.3
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def results_until(worker: RawWorker, task_ids: set[int], seconds: float = 20) -> list[list[tuple[int, int, bytes]]]:
    """The worker's RESULTS frames until every task in ``task_ids`` has its result."""
    frames: list[list[tuple[int, int, bytes]]] = []
    done: set[int] = set()
    deadline = Deadline(seconds)
    while not task_ids <= done:
        assert not deadline.passed(), f"results of {task_ids - done} missing"
        frame = worker.results(deadline.left())
        frames.append(frame)
        done |= {task_id for task_id, status, _ in frame if status not in (STARTED, RESOURCE)}
    return frames


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[float | None], RawWorker]]:
    """Starts workers (with --resource-interval when given one); kills and reaps them after."""
    started: list[RawWorker] = []

    def start(interval: float | None) -> RawWorker:
        args = () if interval is None else ("--resource-interval", repr(interval))
        worker = RawWorker(tmp_path / f"worker-{len(started)}.log", args)
        started.append(worker)
        assert worker.results() == []  # ready
        return worker

    yield start
    for worker in started:
        worker.stop()
    assert wait_gone({worker.proc.pid: None for worker in started}, 10) == []


def flat(frames: list[list[tuple[int, int, bytes]]]) -> list[tuple[int, int, bytes]]:
    return [entry for frame in frames for entry in frame]


def test_a_worker_samples_at_the_end_of_every_try_and_every_interval_of_a_long_one(start_worker) -> None:
    worker = start_worker(INTERVAL)
    body = (struct.pack("<I", 4) + worker.task(1, sample_apps.add, 0, 1) + worker.task(2, sample_apps.sleep, 3.5 * INTERVAL)
            + worker.task(3, sample_apps.add, 1, 2) + worker.task(4, sample_apps.sleep, 0.05))
    worker.send(3, body)
    frames = results_until(worker, {1, 2, 3, 4})
    entries = flat(frames)
    pid = worker.proc.pid
    assert [data for _, status, data in entries if status == STARTED] == [struct.pack("<I", pid)] * 4
    # The first try is sampled however short (no sample for an interval yet); a long one while it
    # runs and at its end; a no-op right after a sample is not (a burst of them would cost a
    # sample each); one that ran 10 ms or more is.
    for task_id, during, ends_sampled in ((1, (0,), True), (2, (2, 3), True), (3, (0,), False), (4, (0,), True)):
        mine = [(status, data) for t, status, data in entries if t == task_id]
        count = len(mine) - 2 - (1 if ends_sampled else 0)
        assert count in during and [s for s, _ in mine] == [STARTED] + [RESOURCE] * (count + ends_sampled) + [0], mine
        samples = [decode(data) for status, data in mine if status == RESOURCE]
        assert {sample["psutil_process_pid"] for sample in samples} <= {pid}
        assert all(sample["psutil_process_memory_resident"] > 0 for sample in samples)
        stamps = [sample["timestamp"] for sample in samples]
        assert stamps == sorted(stamps)
        assert all(later - earlier > INTERVAL / 2 for earlier, later in zip(stamps[:-2], stamps[1:-1]))
        if ends_sampled:
            # The try's last sample travels in the frame of its result, right before it.
            (frame,) = [frame for frame in frames if (task_id, 0) in [(t, s) for t, s, _ in frame]]
            at = [(t, s) for t, s, _ in frame].index((task_id, 0))
            assert at > 0 and frame[at - 1][:2] == (task_id, RESOURCE)


def test_a_worker_without_an_interval_sends_no_samples(start_worker) -> None:
    worker = start_worker(None)
    worker.send(3, struct.pack("<I", 1) + worker.task(1, sample_apps.sleep, 3.5 * INTERVAL))
    entries = flat(results_until(worker, {1}))
    assert [(t, s) for t, s, _ in entries] == [(1, STARTED), (1, 0)]
    assert entries[0][2] == struct.pack("<I", worker.proc.pid)


def test_samples_of_a_bash_task_count_its_command(start_worker, tmp_path: Path) -> None:
    worker = start_worker(INTERVAL)
    script = tmp_path / "busy.py"
    script.write_text(BUSY.format(0.5))
    command = f"{PY} {script}; sleep {4 * INTERVAL}"
    worker.send(3, struct.pack("<I", 1) + encode_task(1, 2, 0, b"", {"command": command}, b""))
    entries = flat(results_until(worker, {1}))
    assert entries[-1][:2] == (1, 0)
    samples = [decode(data) for _, status, data in entries if status == RESOURCE]
    assert len(samples) >= 3
    assert max(sample["psutil_process_children_count"] for sample in samples[:-1]) >= 1
    end = samples[-1]
    assert end["psutil_process_children_count"] == 0
    assert end["psutil_process_time_user"] + end["psutil_process_time_system"] >= 0.45


def test_a_manager_forwards_samples_only_with_a_resource_interval(start_manager) -> None:
    sampled: ManagerProcess = start_manager(workers=1, args=("--resource-interval", repr(INTERVAL)))
    plain: ManagerProcess = start_manager(workers=1)
    for manager, wanted in ((sampled, 3), (plain, 0)):
        result = manager.run(sample_apps.sleep, 3.5 * INTERVAL)
        assert result.value == 3.5 * INTERVAL
        (task_id,) = manager.started
        pid = manager.started_pids[task_id]
        assert pid in manager.worker_pids
        samples = manager.samples.get(task_id, [])
        assert len(samples) >= wanted and (wanted == 0) == (samples == [])
        assert all(sample["psutil_process_pid"] == pid for sample in samples)
