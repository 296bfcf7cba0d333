"""Sprig's frame protocol: frame layout, task/result records, and pipe I/O helpers.

Both links (interchange <-> manager, manager <-> worker) carry the same frames:
a 5-byte header ``struct.pack("<IB", body_length, type)`` followed by the body.
See PROTOCOL.md next to this file for the byte layouts.

Only the standard library is used, and only cheap modules, so managers and workers start fast.
"""

from __future__ import annotations

import os
import struct
from collections import deque
from collections.abc import Iterable, Sequence

from sprig.wire import (  # noqa: F401 (re-exported: the protocol's numbers, defined once)
    FAILURE_KINDS,
    FRAME_HEADER_FORMAT,
    FRAME_NAMES,
    HEARTBEAT,
    HELLO,
    HELLO_ACK,
    KILL_TASK,
    KIND_BASH,
    KIND_BASH_FROM_PYTHON,
    KIND_NAMES,
    KIND_PYTHON,
    PROTOCOL_VERSION,
    RESOURCE_FIELDS,
    RESOURCE_FORMAT,
    RECALL,
    RESULTS,
    SHUTDOWN,
    STATS,
    STATUS_FAILED,
    STATUS_NAMES,
    STATUS_OK,
    STATUS_RECALLED,
    STATUS_RESOURCE,
    STATUS_SKIPPED,
    STATUS_STARTED,
    STATUS_WORKER_LOST,
    TASKS,
)

HEADER = struct.Struct(FRAME_HEADER_FORMAT)  # body length, frame type
U32 = struct.Struct("<I")
U64 = struct.Struct("<Q")
TASK_HEAD = struct.Struct("<QBQI")  # task_id, kind, fn_key, fn_len
RESULT_HEAD = struct.Struct("<QBI")  # task_id, status, data length

MAX_BODY = 0xFFFFFFFF
# Bytes asked for per read: below glibc's mmap threshold (128 KiB), so that the bytes object a
# read returns comes from the heap. A 256 KiB request was mmapped, shrunk with mremap and unmapped
# on every read: ~100 us per read here, more than the rest of a no-op's trip through a manager.
_READ_CHUNK = 64 * 1024
# A frame body at least this large that is not complete in the bytes read so far is read
# straight into a buffer of its own size (no re-concatenation of a growing buffer).
_LARGE_BODY = 64 * 1024
_IOV_MAX = 512

Buffer = bytes | bytearray | memoryview


class ProtocolError(Exception):
    """A frame or a frame body that does not follow the protocol."""


def frame(frame_type: int, body: Buffer = b"") -> bytes:
    """One whole frame as bytes (copies the body; use :func:`frame_header` for big bodies)."""
    return HEADER.pack(len(body), frame_type) + bytes(body)


def frame_header(frame_type: int, body_length: int) -> bytes:
    """The 5-byte header of a frame whose body (sent separately) has ``body_length`` bytes."""
    if body_length > MAX_BODY:
        raise ProtocolError(f"frame body of {body_length} bytes is larger than 4 GiB")
    return HEADER.pack(body_length, frame_type)


# ---------------------------------------------------------------------------------------------
# Tasks


class TaskRecord:
    """One task of a TASKS body, kept as slices of the received bytes (never unpickled here).

    ``fn`` is the pickled function (empty when the sender had already sent ``fn_key``);
    ``rest`` covers ``opt_len, options, payload_len, payload`` exactly as received, so it can be
    forwarded without re-encoding.
    """

    __slots__ = ("task_id", "kind", "fn_key", "fn", "rest")

    def __init__(self, task_id: int, kind: int, fn_key: int, fn: memoryview, rest: memoryview) -> None:
        self.task_id = task_id
        self.kind = kind
        self.fn_key = fn_key
        self.fn = fn
        self.rest = rest

    def options(self) -> memoryview:
        """The options JSON bytes (empty when there are none)."""
        (length,) = U32.unpack_from(self.rest, 0)
        return self.rest[4 : 4 + length]

    def payload(self) -> memoryview:
        """The payload bytes (pickled ``(args, kwargs)`` for kinds 0 and 1)."""
        (opt_len,) = U32.unpack_from(self.rest, 0)
        start = 4 + opt_len + 4
        return self.rest[start:]

    def __repr__(self) -> str:
        return f"TaskRecord(task_id={self.task_id}, kind={self.kind}, fn_key={self.fn_key}, fn={len(self.fn)}B)"


def parse_tasks(body: memoryview) -> list[TaskRecord]:
    """Splits a TASKS body into records (slices of ``body``); raises ProtocolError when malformed."""
    size = len(body)
    if size < 4:
        raise ProtocolError("TASKS body shorter than its count")
    (count,) = U32.unpack_from(body, 0)
    offset = 4
    records: list[TaskRecord] = []
    for index in range(count):
        if offset + TASK_HEAD.size > size:
            raise ProtocolError(f"TASKS body truncated in the header of task {index}")
        task_id, kind, fn_key, fn_len = TASK_HEAD.unpack_from(body, offset)
        offset += TASK_HEAD.size
        fn_end = offset + fn_len
        if fn_end + 4 > size:
            raise ProtocolError(f"TASKS body truncated in the function of task {task_id}")
        (opt_len,) = U32.unpack_from(body, fn_end)
        pay_at = fn_end + 4 + opt_len
        if pay_at + 4 > size:
            raise ProtocolError(f"TASKS body truncated in the options of task {task_id}")
        (pay_len,) = U32.unpack_from(body, pay_at)
        end = pay_at + 4 + pay_len
        if end > size:
            raise ProtocolError(f"TASKS body truncated in the payload of task {task_id}")
        records.append(TaskRecord(task_id, kind, fn_key, body[offset:fn_end], body[fn_end:end]))
        offset = end
    if offset != size:
        raise ProtocolError(f"TASKS body has {size - offset} bytes after its {count} tasks")
    return records


def task_pieces(task_id: int, kind: int, fn_key: int, fn: Buffer, options: Buffer, payload: Buffer) -> list[Buffer]:
    """The encoded pieces of one task entry of a TASKS body (concatenate, or hand to writev)."""
    return [
        TASK_HEAD.pack(task_id, kind, fn_key, len(fn)),
        fn,
        U32.pack(len(options)),
        options,
        U32.pack(len(payload)),
        payload,
    ]


def encode_tasks(entries: Iterable[Sequence]) -> bytes:
    """A whole TASKS body from ``(task_id, kind, fn_key, fn, options, payload)`` tuples."""
    parts: list[Buffer] = []
    count = 0
    for entry in entries:
        parts.extend(task_pieces(*entry))
        count += 1
    return U32.pack(count) + b"".join(parts)


# ---------------------------------------------------------------------------------------------
# Results


class ResultRecord:
    """One result of a RESULTS body; ``raw`` is the whole entry (header and data) for forwarding."""

    __slots__ = ("task_id", "status", "data", "raw")

    def __init__(self, task_id: int, status: int, data: memoryview, raw: memoryview) -> None:
        self.task_id = task_id
        self.status = status
        self.data = data
        self.raw = raw

    def __repr__(self) -> str:
        return f"ResultRecord(task_id={self.task_id}, status={self.status}, {len(self.data)}B)"


def parse_results(body: memoryview) -> list[ResultRecord]:
    """Splits a RESULTS body into records (slices of ``body``); raises ProtocolError when malformed."""
    size = len(body)
    if size < 4:
        raise ProtocolError("RESULTS body shorter than its count")
    (count,) = U32.unpack_from(body, 0)
    offset = 4
    records: list[ResultRecord] = []
    for index in range(count):
        if offset + RESULT_HEAD.size > size:
            raise ProtocolError(f"RESULTS body truncated in the header of result {index}")
        task_id, status, length = RESULT_HEAD.unpack_from(body, offset)
        start = offset + RESULT_HEAD.size
        end = start + length
        if end > size:
            raise ProtocolError(f"RESULTS body truncated in the data of task {task_id}")
        records.append(ResultRecord(task_id, status, body[start:end], body[offset:end]))
        offset = end
    if offset != size:
        raise ProtocolError(f"RESULTS body has {size - offset} bytes after its {count} results")
    return records


def result_pieces(task_id: int, status: int, data: Buffer) -> list[Buffer]:
    """The encoded pieces of one result entry of a RESULTS body."""
    return [RESULT_HEAD.pack(task_id, status, len(data)), data]


def encode_results(entries: Iterable[Sequence]) -> bytes:
    """A whole RESULTS body from ``(task_id, status, data)`` tuples."""
    parts: list[Buffer] = []
    count = 0
    for task_id, status, data in entries:
        parts.extend(result_pieces(task_id, status, data))
        count += 1
    return U32.pack(count) + b"".join(parts)


# ---------------------------------------------------------------------------------------------
# Pipe I/O


class FrameReader:
    """Reads frames from a file descriptor, one ``os.read`` per :meth:`read` call.

    Frame bodies that arrive whole in one read are returned as memoryview slices of the bytes
    read (no copy); a large body that spans reads is read straight into a buffer of its own.
    Works on blocking descriptors (after ``poll`` said readable) and on non-blocking ones.
    """

    def __init__(self, fd: int, chunk: int = _READ_CHUNK) -> None:
        self.fd = fd
        self._chunk = chunk
        self._pending = b""  # start of an incomplete frame
        self._body: bytearray | None = None  # large body being filled
        self._body_view: memoryview | None = None
        self._body_got = 0
        self._body_type = 0
        self.eof = False
        self.would_block = False  # the last read found nothing (non-blocking descriptor)
        self.drained = False  # the last read took all there was then (it got less than it asked for)

    def read(self) -> list[tuple[int, memoryview]] | None:
        """Reads once; returns the frames completed (maybe none), or None at end of file.

        Raises ProtocolError when the stream ends inside a frame, BlockingIOError never (a
        non-blocking descriptor with nothing to read gives an empty list).
        """
        self.would_block = False
        self.drained = False
        if self._body is not None:
            return self._read_large()
        try:
            data = os.read(self.fd, self._chunk)
        except BlockingIOError:
            self.would_block = True
            return []
        if not data:
            return self._at_eof()
        self.drained = len(data) < self._chunk
        if self._pending:
            data = self._pending + data
            self._pending = b""
        return self._split(data)

    def _read_large(self) -> list[tuple[int, memoryview]] | None:
        assert self._body_view is not None and self._body is not None
        try:
            got = os.readv(self.fd, [self._body_view[self._body_got :]])
        except BlockingIOError:
            self.would_block = True
            return []
        if got == 0:
            return self._at_eof()
        self._body_got += got
        if self._body_got < len(self._body):
            return []
        done = (self._body_type, memoryview(self._body))
        self._body = None
        self._body_view = None
        return [done]

    def _at_eof(self) -> list[tuple[int, memoryview]] | None:
        """None (end of file), or ProtocolError when the stream ends inside a frame."""
        self.eof = True
        if self._pending or self._body is not None:
            raise ProtocolError("stream ended inside a frame")
        return None

    def _split(self, data: bytes) -> list[tuple[int, memoryview]]:
        view = memoryview(data)
        size = len(data)
        offset = 0
        frames: list[tuple[int, memoryview]] = []
        header = HEADER.size
        while offset + header <= size:
            length, frame_type = HEADER.unpack_from(data, offset)
            start = offset + header
            end = start + length
            if end <= size:
                frames.append((frame_type, view[start:end]))
                offset = end
                continue
            if length >= _LARGE_BODY:
                body = bytearray(length)
                have = size - start
                body[:have] = view[start:]
                self._body = body
                self._body_view = memoryview(body)
                self._body_got = have
                self._body_type = frame_type
                offset = size
            break
        if offset < size:
            self._pending = bytes(view[offset:])
        return frames


class OutBuffer:
    """Queued bytes for one file descriptor, written with ``os.writev`` as far as it accepts.

    Pieces are kept as given (bytes or memoryviews), so big payloads are not copied. Use it on a
    non-blocking descriptor and call :meth:`flush` whenever the descriptor is writable.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._pieces: deque[Buffer] = deque()
        self.pending = 0  # bytes not yet written

    def append(self, piece: Buffer) -> None:
        """Queues one piece (not written until :meth:`flush`)."""
        if len(piece):
            self._pieces.append(piece)
            self.pending += len(piece)

    def extend(self, pieces: Iterable[Buffer]) -> None:
        """Queues several pieces."""
        for piece in pieces:
            self.append(piece)

    def flush(self) -> bool:
        """Writes what the descriptor takes now; True when everything has been written.

        Raises OSError (e.g. BrokenPipeError) when the reader is gone.
        """
        pieces = self._pieces
        while pieces:
            if len(pieces) == 1:
                batch: Sequence[Buffer] = (pieces[0],)
            else:
                batch = [pieces[i] for i in range(min(len(pieces), _IOV_MAX))]
            try:
                written = os.writev(self.fd, batch)
            except BlockingIOError:
                return False
            self.pending -= written
            while written:
                first = pieces[0]
                if written >= len(first):
                    written -= len(first)
                    pieces.popleft()
                else:
                    pieces[0] = memoryview(first)[written:]
                    written = 0
        return True

    def clear(self) -> None:
        """Drops everything not yet written."""
        self._pieces.clear()
        self.pending = 0


def write_all(fd: int, pieces: Sequence[Buffer]) -> None:
    """Writes all pieces to a blocking descriptor (handles partial writes)."""
    buffer = OutBuffer(fd)
    buffer.extend(pieces)
    while not buffer.flush():  # only on a non-blocking fd: wait until writable
        import select

        select.select([], [fd], [])
