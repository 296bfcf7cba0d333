"""Large payloads: pickle protocol 5 with out-of-band buffers, through shared-memory segments to a
local block's workers and inline otherwise (PROTOCOL.md, "Payloads"), with real managers and
workers."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Callable

import pytest

import sample_apps
from client import FAILED, OK, WORKER_LOST, Deadline, ManagerProcess
from sprig import segments, serialize
from sprig.serialize import Pickled

MiB = 1 << 20


def run_segments(prefix: str) -> list[str]:
    return sorted(name for name in os.listdir(segments.SHM_DIR) if name.startswith(prefix + "-"))


@pytest.fixture
def prefix() -> str:
    chosen = segments.new_prefix()
    segments.make_probe(chosen)  # (what the engine does when it starts)
    yield chosen
    segments.sweep(chosen)  # (what the engine does at shutdown)


@pytest.fixture
def shared(start_manager: Callable[..., ManagerProcess], prefix: str) -> ManagerProcess:
    return start_manager(args=("--shared-memory", prefix))


def test_small_payloads_stay_plain_pickles() -> None:
    data = serialize.dumps_call((1, b"x" * 1000, [2.0]), {"k": "v"}, "sprig-1-abc")
    assert data[:1] == b"\x80" and serialize.segment_names(data) == []
    assert serialize.loads(data) == ((1, b"x" * 1000, [2.0]), {"k": "v"})


def test_large_buffers_round_trip_through_segments(shared: ManagerProcess, prefix: str) -> None:
    big = sample_apps.make_bytes(MiB)
    args = (big, bytearray(big), memoryview(big), "small", 7)
    task_id, entry = shared.python_task(sample_apps.echo, args)
    payload = serialize.dumps_call((args,), {}, prefix)
    assert len(payload) < 4096  # the pipe carries names, not the megabytes
    assert len(serialize.segment_names(payload)) == 3
    for name in serialize.segment_names(payload):
        segments.unlink(name)
    shared.submit([(task_id, entry)])
    result = shared.wait_results([task_id])[task_id]
    assert result.status == OK and len(result.data) < 4096
    names = serialize.segment_names(result.data)
    assert len(names) == 3 and all(name.startswith(prefix + "-") for name in names)
    # The argument segments were unlinked by the worker that read them; the result's are kept
    # (they belong to the engine) until their reader is done.
    assert run_segments(prefix) == sorted(names + [prefix + "-probe"])
    value = serialize.loads(result.data)
    assert value[0] == big and type(value[0]) is bytes
    assert value[1] == big and type(value[1]) is bytearray
    assert type(value[2]) is memoryview and value[2].readonly and bytes(value[2]) == big
    assert value[3:] == ("small", 7)
    for name in names:
        assert os.stat(os.path.join(segments.SHM_DIR, name)).st_mode & 0o777 == 0o600
    assert serialize.loads(result.data)[0] == big  # read again: nothing consumed it
    assert segments.sweep(prefix) == 4 and run_segments(prefix) == []  # (and the probe)


def test_mix_of_small_and_large_in_one_batch(shared: ManagerProcess, prefix: str) -> None:
    sizes = [10, MiB, 100, 64 * 1024, 64 * 1024 - 1, 3 * MiB, 0]
    entries = [shared.python_task(sample_apps.make_bytes, size) for size in sizes]
    echoes = [shared.python_task(sample_apps.echo, sample_apps.make_bytes(size)) for size in sizes]
    results = shared.wait_results(shared.submit(entries + echoes))
    for (task_id, _), size in zip(entries + echoes, sizes + sizes):
        value = results[task_id].value
        assert value == sample_apps.make_bytes(size)
        has_segment = bool(serialize.segment_names(results[task_id].data))
        assert has_segment == (size - size % 256 >= serialize.OUT_OF_BAND_MIN), size
    segments.sweep(prefix)


def test_forwarded_result_is_read_without_being_consumed(shared: ManagerProcess, prefix: str) -> None:
    big = sample_apps.make_bytes(2 * MiB)
    first = shared.run(sample_apps.make_bytes, 2 * MiB)
    assert len(first.data) < 4096
    # The engine forwards the result as it came, to two tasks: both read the same segments.
    results = shared.wait_results(shared.submit([shared.python_task(sample_apps.echo, Pickled(first.data)),
                                                 shared.python_task(sample_apps.buffer_kinds, Pickled(first.data))]))
    values = [result.value for result in results.values()]
    assert big in values and ["bytes"] in values
    assert set(serialize.segment_names(first.data)) <= set(run_segments(prefix))


def test_without_shared_memory_buffers_travel_inline(manager: ManagerProcess, prefix: str) -> None:
    big = sample_apps.make_bytes(MiB)
    result = manager.run(sample_apps.echo, (big, memoryview(big)))
    assert result.status == OK and serialize.segment_names(result.data) == [] and len(result.data) > MiB
    value = result.value
    assert value[0] == big and bytes(value[1]) == big
    # A result held in segments, forwarded to a block without them, travels with its bytes inline.
    held = serialize.dumps_result(big, prefix)
    assert serialize.segment_names(held)
    forwarded = manager.run(sample_apps.echo, Pickled(held))
    assert forwarded.value == big
    payload = serialize.dumps_call((Pickled(held),), {}, None)
    assert not serialize.segment_names(payload) and len(payload) > MiB


def test_numpy_arrays_travel_out_of_band(shared: ManagerProcess, prefix: str) -> None:
    np = pytest.importorskip("numpy")
    import subprocess

    from client import PY

    if subprocess.run([PY, "-c", "import numpy"], capture_output=True).returncode != 0:
        pytest.skip(f"the workers' interpreter {PY} has no numpy")
    array = np.arange(MiB // 8, dtype=np.float64).reshape(256, -1)
    frozen = np.arange(MiB // 4, dtype=np.int32)
    frozen.flags.writeable = False
    result = shared.run(sample_apps.echo, (array, frozen, np.arange(3)))
    assert len(serialize.segment_names(result.data)) == 2
    back = result.value
    assert (back[0] == array).all() and back[0].shape == array.shape and back[0].flags.writeable
    assert (back[1] == frozen).all() and (back[2] == np.arange(3)).all()


def test_missing_segment_fails_the_task_naming_it(shared: ManagerProcess, prefix: str) -> None:
    task_id, entry = shared.python_task(sample_apps.echo, sample_apps.make_bytes(MiB))
    names = segments_in_entry(entry)
    assert len(names) == 1
    segments.unlink(names[0])  # gone before the worker reads it
    shared.submit([(task_id, entry)])
    result = shared.wait_results([task_id])[task_id]
    assert result.status == FAILED
    info = result.info
    assert info["kind"] == "serialization"
    assert f"task {task_id}" in info["message"] and names[0] in info["message"]
    assert "cannot be opened" in info["message"]


def test_resized_segment_fails_the_task_naming_it(shared: ManagerProcess, prefix: str) -> None:
    task_id, entry = shared.python_task(sample_apps.echo, sample_apps.make_bytes(MiB))
    (name,) = segments_in_entry(entry)
    os.truncate(os.path.join(segments.SHM_DIR, name), 1000)
    shared.submit([(task_id, entry)])
    info = shared.wait_results([task_id])[task_id].info
    assert f"task {task_id}" in info["message"] and f"{name} holds 1000 bytes" in info["message"]
    assert run_segments(prefix) == [prefix + "-probe"]  # consumed even though it failed


def test_worker_killed_mid_task_leaves_only_what_a_sweep_removes(shared: ManagerProcess, prefix: str,
                                                                 tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    marker = tmp_path / "running"
    task_id, entry = shared.python_task(sample_apps.wait_for_file_then_echo, str(marker), str(gate),
                                        sample_apps.make_bytes(MiB))
    shared.submit([(task_id, entry)])
    deadline = Deadline(20)
    while not (task_id in shared.started and marker.exists()) and deadline.left() > 0:
        shared.pump(deadline)
    assert task_id in shared.started and marker.exists()
    os.kill(shared.started_pids[task_id], signal.SIGKILL)
    result = shared.wait_results([task_id])[task_id]
    assert result.status == WORKER_LOST
    # Its argument segment was taken at the task's start: the engine's name is gone; the pages
    # are the dead worker's spare, which the sweep removes with a result segment it never reported.
    assert not os.path.exists(os.path.join(segments.SHM_DIR, segments_in_entry(entry)[0]))
    assert len(run_segments(prefix)) == 2  # the probe and the spare
    orphan = segments.write(prefix, memoryview(b"z" * 100))
    assert segments.sweep(prefix) == 3 and not os.path.exists(os.path.join(segments.SHM_DIR, orphan))


def test_a_manager_that_cannot_see_the_probe_goes_inline(start_manager: Callable[..., ManagerProcess]) -> None:
    unseen = segments.new_prefix()  # no probe: as for a manager in a container or on another node
    manager = start_manager(args=("--shared-memory", unseen))
    assert manager.hello is not None and manager.hello["shared_memory"] is False
    manager.shared_memory = None
    result = manager.run(sample_apps.make_bytes, MiB)
    assert result.value == sample_apps.make_bytes(MiB) and serialize.segment_names(result.data) == []
    assert run_segments(unseen) == []


def test_segment_names_are_checked_before_use() -> None:
    assert not segments.valid_name("../etc/passwd") and not segments.valid_name("sprig-a/b")
    with pytest.raises(segments.SegmentError, match="not one Sprig makes"):
        segments.read("sprig-../x", 10, False, False)


def segments_in_entry(entry: bytes) -> list[str]:
    """The segment names in an encoded TASKS entry's payload (the last blob)."""
    import struct

    offset = 8 + 1 + 8
    (fn_len,) = struct.unpack_from("<I", entry, offset)
    offset += 4 + fn_len
    (opt_len,) = struct.unpack_from("<I", entry, offset)
    offset += 4 + opt_len + 4
    return serialize.segment_names(entry[offset:])


def test_numpy_arrays_round_trip_through_segments_here(prefix: str) -> None:
    np = pytest.importorskip("numpy")
    array = np.arange(MiB // 8, dtype=np.float64).reshape(256, -1)
    payload = serialize.dumps_result({"a": array, "t": array.T, "small": np.arange(3)}, prefix)
    assert len(payload) < 4096 + 8 * array.size // 2 and len(serialize.segment_names(payload)) >= 1
    back = serialize.loads(payload)
    assert (back["a"] == array).all() and back["a"].flags.writeable and (back["t"] == array.T).all()
    assert (back["small"] == np.arange(3)).all()


def test_a_taken_segment_becomes_a_spare_for_the_next_write(prefix: str) -> None:
    data = sample_apps.make_bytes(MiB)
    name = segments.write(prefix, memoryview(data))
    assert segments.read(name, MiB, False, consume=True) == data
    assert not os.path.exists(os.path.join(segments.SHM_DIR, name))  # the writer's name is gone at once
    (spare,) = [n for n in run_segments(prefix) if not n.endswith("-probe")]
    assert os.stat(os.path.join(segments.SHM_DIR, spare)).st_mode & 0o777 == 0o600
    smaller = sample_apps.make_bytes(MiB // 2)
    reused = segments.write(prefix, memoryview(smaller))
    assert run_segments(prefix) == sorted([reused, prefix + "-probe"])  # the spare's pages, renamed
    assert segments.read(reused, MiB // 2, True, consume=False) == bytearray(smaller)
    assert segments.unlink(reused)
    # Spares are bounded: taking more than SPARE_BYTES leaves no more than that behind.
    names = [segments.write(prefix, memoryview(data)) for _ in range(segments.SPARE_BYTES // MiB + 3)]
    for taken in names:
        segments.read(taken, MiB, False, consume=True)
    left = [n for n in run_segments(prefix) if not n.endswith("-probe")]
    assert len(left) * MiB <= segments.SPARE_BYTES
    for fd, _, _ in list(segments._spares):
        os.close(fd)
    segments._spares.clear()


def test_the_probe_names_its_engine_and_says_when_it_is_gone(prefix: str) -> None:
    owner = segments.probe_owner(prefix)
    assert owner == segments.process_identity() and owner is not None
    assert owner.split()[0] == str(os.getpid())
    assert not segments.owner_gone(owner)  # this process: alive
    pid, started, namespace = owner.split()
    assert segments.owner_gone(f"{pid} {int(started) + 1} {namespace}")  # a later process with the pid
    assert not segments.owner_gone(f"{pid} {started} pid:[1]")  # another namespace: unknown, never gone
    assert not segments.owner_gone(None) and not segments.owner_gone("") and not segments.owner_gone("x y")
    assert segments.sweep_if_owner_gone(prefix, owner) == 0 and run_segments(prefix) == [prefix + "-probe"]


def _engine_that_made_a_probe(prefix: str) -> "subprocess.Popen[bytes]":
    """A process standing for an engine: it makes the probe of ``prefix`` (naming itself), says so
    on stdout, then waits to be killed."""
    import subprocess
    import sys

    code = ("import sys, time\nfrom sprig import segments\nsegments.make_probe(sys.argv[1])\n"
            "print('ready', flush=True)\ntime.sleep(120)\n")
    engine = subprocess.Popen([sys.executable, "-c", code, prefix], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert engine.stdout is not None and engine.stdout.readline() == b"ready\n"
    return engine


@pytest.mark.parametrize("engine_killed", [True, False])
def test_a_manager_whose_engine_was_killed_removes_the_runs_files_when_it_ends(
        start_manager: Callable[..., ManagerProcess], engine_killed: bool) -> None:
    prefix = segments.new_prefix()
    engine = _engine_that_made_a_probe(prefix)
    try:
        manager = start_manager(args=("--shared-memory", prefix))
        assert manager.hello is not None and manager.hello["shared_memory"] is True
        manager.shared_memory = prefix
        # A result held by the engine, and a worker's spare (the argument it took).
        result = manager.run(sample_apps.echo, sample_apps.make_bytes(MiB))
        assert len(serialize.segment_names(result.data)) == 1
        held = segments.write(prefix, memoryview(sample_apps.make_bytes(MiB)))  # an argument not yet sent
        assert len(run_segments(prefix)) >= 3
        if engine_killed:
            engine.kill()
            engine.wait(timeout=10)
        manager.close_stdin()  # what a dead engine's pipe does
        manager.wait_exit()
        manager.assert_all_gone()
        if engine_killed:
            assert run_segments(prefix) == []
        else:  # a live engine's files are its own: the manager leaves them
            assert prefix + "-probe" in run_segments(prefix) and held in run_segments(prefix)
    finally:
        if engine.poll() is None:
            engine.kill()
            engine.wait(timeout=10)
        segments.sweep(prefix)
