"""A local block's control socket (``--worker-socket FD``): the two-hop data path.

The manager hands each worker, once it is ready (its first RESULTS frame came), to the engine:
a WORKER_READY frame with the worker's two pipe ends attached (``SCM_RIGHTS``). From then on the
engine writes that worker's tasks and reads its results itself; the manager keeps supervising it
(respawn, kills, reaping, what its commands leave behind) and says WORKER_ENDED when it has reaped
it. The engine asks for kills with KILL_WORKER (the worker runs a task that was killed) and tells
of silence with WORKER_SILENT (the manager then applies its hung-worker test). PROTOCOL.md,
"Two-hop local blocks", has the frames.

:class:`HandoffLink` is only the socket; :mod:`sprig.worker_pool` and :mod:`sprig.dispatch` call
it at the points where a handed-off worker differs.
"""

from __future__ import annotations

import json
import logging
import os
import socket

from sprig import protocol as P
from sprig.wire import KILL_WORKER, WORKER_ENDED, WORKER_READY, WORKER_SILENT

log = logging.getLogger("sprig.manager")

MAX_MESSAGE = 65536  # a control frame from the engine is a small JSON object

__all__ = ["HandoffLink", "WORKER_READY", "WORKER_ENDED", "KILL_WORKER", "WORKER_SILENT"]


def parse_control(data: bytes) -> tuple[int, dict]:
    """One control frame (one socket message): its type and its JSON object body.

    Raises ProtocolError when the message is not exactly one frame of a JSON object."""
    if len(data) < P.HEADER.size:
        raise P.ProtocolError(f"control frame of {len(data)} bytes, shorter than a header")
    length, frame_type = P.HEADER.unpack_from(data, 0)
    if length != len(data) - P.HEADER.size:
        raise P.ProtocolError(f"control frame says {length} bytes of body, has {len(data) - P.HEADER.size}")
    try:
        body = json.loads(bytes(data[P.HEADER.size:]).decode("utf-8"))
    except ValueError as exc:
        raise P.ProtocolError(f"control frame {frame_type} is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise P.ProtocolError(f"control frame {frame_type} is not a JSON object")
    return frame_type, body


class HandoffLink:
    """The manager's end of a local block's control socket (SOCK_SEQPACKET: one frame a message)."""

    def __init__(self, fd: int) -> None:
        # Inherited as fd 3: neither workers nor their commands may hold it (the engine sees the
        # manager's end by the socket's end).
        os.set_inheritable(fd, False)
        self.sock = socket.socket(fileno=fd)
        self.sock.setblocking(True)  # frames are small and rare (one per worker start and end)
        self.fd = fd
        self.closed = False

    def ready(self, index: int, pid: int, to_fd: int, from_fd: int) -> bool:
        """WORKER_READY for worker ``index`` with its task pipe's write end and its result pipe's
        read end; returns whether it went (the engine may be gone)."""
        body = json.dumps({"worker": index, "pid": pid}).encode("utf-8")
        return self._send(P.frame(WORKER_READY, body), [to_fd, from_fd])

    def ended(self, index: int, pid: int, signal: int | None, exit_code: int | None, words: str,
              lost_reason: str | None) -> bool:
        """WORKER_ENDED: worker ``index`` (``pid``) was reaped; ``words`` say how it ended."""
        info = {"worker": index, "pid": pid, "signal": signal, "exit_code": exit_code, "words": words,
                "lost_reason": lost_reason}
        return self._send(P.frame(WORKER_ENDED, json.dumps(info).encode("utf-8")), [])

    def _send(self, data: bytes, fds: list[int]) -> bool:
        if self.closed:
            return False
        try:
            if fds:
                socket.send_fds(self.sock, [data], fds)
            else:
                self.sock.sendall(data)
            return True
        except OSError as exc:
            log.warning("cannot write to the engine's control socket: %s", exc)
            self.closed = True
            return False

    def receive(self) -> list[tuple[int, dict]] | None:
        """The frames the engine sent (each a JSON object), or None when it closed its end."""
        frames: list[tuple[int, dict]] = []
        while True:
            try:
                data = self.sock.recv(MAX_MESSAGE, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return frames
            except OSError as exc:
                log.warning("the engine's control socket failed: %s", exc)
                data = b""
            if not data:
                self.closed = True
                return frames or None
            frame_type, body = parse_control(data)
            frames.append((frame_type, body))

    def close(self) -> None:
        self.closed = True
        self.sock.close()
