"""Frame encoding and the pipe helpers of sprig.protocol."""

from __future__ import annotations

import os
import select
import struct

import pytest

from client import Deadline, encode_task
from sprig import protocol as P


def read_frames(reader: P.FrameReader, count: int, seconds: float = 5) -> list[tuple[int, bytes]]:
    deadline = Deadline(seconds)
    frames: list[tuple[int, bytes]] = []
    while len(frames) < count:
        ready, _, _ = select.select([reader.fd], [], [], deadline.left())
        assert ready, "timed out reading frames"
        got = reader.read()
        assert got is not None, "unexpected end of file"
        frames.extend((kind, bytes(body)) for kind, body in got)
    return frames


def test_header_layout() -> None:
    assert P.frame(P.HEARTBEAT) == b"\x00\x00\x00\x00\x05"
    assert P.frame(P.KILL_TASK, struct.pack("<Q", 7)) == b"\x08\x00\x00\x00\x07" + struct.pack("<Q", 7)
    assert (P.HELLO, P.HELLO_ACK, P.TASKS, P.RESULTS, P.HEARTBEAT, P.SHUTDOWN, P.KILL_TASK, P.STATS) == tuple(range(1, 9))


def test_tasks_roundtrip_matches_independent_encoding() -> None:
    entries = [
        (1, P.KIND_PYTHON, 77, b"FN", b"", b"payload"),
        (2**63 + 5, P.KIND_BASH, 0, b"", b'{"command": "true"}', b""),
    ]
    body = P.encode_tasks(entries)
    independent = struct.pack("<I", 2) + encode_task(1, 0, 77, b"FN", None, b"payload")
    independent += encode_task(2**63 + 5, 2, 0, b"", {"command": "true"}, b"")
    assert body == independent
    records = P.parse_tasks(memoryview(body))
    assert [(r.task_id, r.kind, r.fn_key, bytes(r.fn)) for r in records] == [(1, 0, 77, b"FN"), (2**63 + 5, 2, 0, b"")]
    assert bytes(records[0].payload()) == b"payload" and bytes(records[0].options()) == b""
    assert bytes(records[1].options()) == b'{"command": "true"}' and bytes(records[1].payload()) == b""


def test_results_roundtrip() -> None:
    body = P.encode_results([(3, P.STATUS_OK, b"abc"), (4, P.STATUS_FAILED, b"{}")])
    assert body == struct.pack("<I", 2) + struct.pack("<QBI", 3, 0, 3) + b"abc" + struct.pack("<QBI", 4, 1, 2) + b"{}"
    records = P.parse_results(memoryview(body))
    assert [(r.task_id, r.status, bytes(r.data)) for r in records] == [(3, 0, b"abc"), (4, 1, b"{}")]
    assert bytes(records[1].raw) == struct.pack("<QBI", 4, 1, 2) + b"{}"


@pytest.mark.parametrize("body", [b"", b"\x01\x00\x00\x00", P.encode_tasks([(1, 0, 1, b"f", b"", b"p")])[:-1]])
def test_truncated_tasks_are_rejected(body: bytes) -> None:
    with pytest.raises(P.ProtocolError):
        P.parse_tasks(memoryview(body))


def test_trailing_bytes_are_rejected() -> None:
    with pytest.raises(P.ProtocolError):
        P.parse_results(memoryview(P.encode_results([(1, 0, b"x")]) + b"!"))


def test_reader_reassembles_frames_split_anywhere() -> None:
    frames = [P.frame(P.STATS, b"s" * n) for n in (0, 1, 5, 300, 70_000, 3)]
    stream = b"".join(frames)
    r, w = os.pipe()
    try:
        os.set_blocking(r, False)
        reader = P.FrameReader(r)
        got: list[tuple[int, bytes]] = []
        # Feed the stream in odd-sized pieces, reading after each.
        position = 0
        for size in [1, 2, 3, 7, 4096, 1, 65_000, 11, 10**6]:
            piece = stream[position : position + size]
            position += len(piece)
            if piece:
                os.write(w, piece)
            while True:
                out = reader.read()
                assert out is not None
                got.extend((kind, bytes(body)) for kind, body in out)
                if reader.would_block:
                    break
        assert position == len(stream)
        assert got == [(P.STATS, b"s" * n) for n in (0, 1, 5, 300, 70_000, 3)]
        os.close(w)
        w = -1
        assert reader.read() is None and reader.eof
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_reader_rejects_eof_inside_a_frame() -> None:
    r, w = os.pipe()
    os.write(w, P.frame(P.STATS, b"abcdef")[:-2])
    os.close(w)
    reader = P.FrameReader(r)
    try:
        assert reader.read() == []
        with pytest.raises(P.ProtocolError):
            reader.read()
    finally:
        os.close(r)


def test_outbuffer_writes_large_pieces_to_a_nonblocking_pipe() -> None:
    r, w = os.pipe()
    os.set_blocking(w, False)
    os.set_blocking(r, False)
    big = bytes(range(256)) * 8192  # 2 MiB, far more than a pipe holds
    out = P.OutBuffer(w)
    out.extend([b"head", memoryview(big), b"tail"])
    received = bytearray()
    deadline = Deadline(10)
    try:
        done = out.flush()
        assert not done and out.pending > 0
        while not done or len(received) < len(big) + 8:
            readable, writable, _ = select.select([r], [w] if not done else [], [], deadline.left())
            assert readable or writable, "timed out"
            if readable:
                received += os.read(r, 1 << 20)
            if writable:
                done = out.flush()
        assert bytes(received) == b"head" + big + b"tail" and out.pending == 0
    finally:
        os.close(r)
        os.close(w)
