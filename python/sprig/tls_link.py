"""A connect-back manager's link to the interchange: frames in and out over the TLS connection the
connector (:mod:`sprig.connector`) opened and authenticated, read and written by the manager
itself, with no process pumping between the connection and pipes.

The manager's loop is the same as over stdio: it polls :attr:`TLSLink.fd_in` for input and
:attr:`TLSLink.fd_out` for room to write (a duplicate of the socket's descriptor, so that the two
registrations on one ``poll`` object do not replace each other), reads with :attr:`TLSLink.reader`
and writes with :attr:`TLSLink.out`. Everything runs on the manager's one thread: an SSL object is
never used from two threads.
"""

from __future__ import annotations

import os
import select
import socket
import ssl
import time

from sprig import protocol as P

# The most bytes one read gathers before the frames are split (every record the socket holds,
# up to this), and the most one write sends (one SSL_write: a TLS record per 16 KiB).
_GATHER = 1 << 20
_SEND = 256 * 1024
_AGAIN = (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError)


class TLSFrameReader(P.FrameReader):
    """Frames from a non-blocking TLS socket: one :meth:`read` takes every record there is now
    (``SSL_read`` until it would block), so a poll wake-up handles a whole batch."""

    def __init__(self, connection: ssl.SSLSocket) -> None:
        super().__init__(connection.fileno())
        self.connection = connection

    def read(self) -> list[tuple[int, memoryview]] | None:
        """Reads what the connection holds; the frames completed (maybe none), or None at its end
        (closed, or broken: the interchange is gone either way).

        Raises ProtocolError when the connection ends inside a frame.
        """
        self.would_block = False
        self.drained = False
        if self._body is not None:
            return self._read_large()
        chunks = []
        got = 0
        ended = False
        while got < _GATHER:
            try:
                data = self.connection.recv(P._READ_CHUNK)
            except _AGAIN:
                self.drained = True
                break
            except OSError:
                ended = True
                break
            if not data:
                ended = True
                break
            chunks.append(data)
            got += len(data)
        if not got:
            if ended:
                return self._at_eof()
            self.would_block = True
            return []
        if self._pending:
            chunks.insert(0, self._pending)
            self._pending = b""
        # An end met after some bytes is met again by the next read (poll says readable).
        return self._split(chunks[0] if len(chunks) == 1 else b"".join(chunks))

    def _read_large(self) -> list[tuple[int, memoryview]] | None:
        assert self._body_view is not None and self._body is not None
        while self._body_got < len(self._body):
            try:
                got = self.connection.recv_into(self._body_view[self._body_got :])
            except _AGAIN:
                self.would_block = True
                return []
            except OSError:
                got = 0
            if got == 0:
                return self._at_eof()
            self._body_got += got
        done = (self._body_type, memoryview(self._body))
        self._body = None
        self._body_view = None
        return [done]


class TLSOutBuffer(P.OutBuffer):
    """Queued frames for a non-blocking TLS socket, sent in writes of up to 256 KiB (whatever is
    queued, joined: one ``SSL_write``, however many frames). A write the socket cannot take whole
    is retried with the same bytes, as OpenSSL requires."""

    def __init__(self, connection: ssl.SSLSocket, fd: int) -> None:
        super().__init__(fd)
        self.connection = connection
        self._sending = b""  # bytes handed to a write that would block: retried as they are

    def flush(self) -> bool:
        """Writes what the connection takes now; True when everything has been written.

        Raises OSError (ssl.SSLError among them) when the connection is broken.
        """
        pieces = self._pieces
        while self._sending or pieces:
            if not self._sending:
                batch = []
                size = 0
                while pieces and size < _SEND:
                    piece = pieces.popleft()
                    batch.append(piece)
                    size += len(piece)
                self._sending = batch[0] if len(batch) == 1 and isinstance(batch[0], bytes) else b"".join(batch)
            try:
                sent = self.connection.send(self._sending)
            except _AGAIN:
                return False
            self.pending -= sent
            self._sending = self._sending[sent:]
        return True

    def clear(self) -> None:
        super().clear()
        self._sending = b""


class TLSLink:
    """The manager's end of a connect-back connection (made non-blocking here)."""

    def __init__(self, connection: ssl.SSLSocket) -> None:
        connection.setblocking(False)
        self.connection = connection
        self.fd_in = connection.fileno()
        self.fd_out = os.dup(self.fd_in)
        self.reader = TLSFrameReader(connection)
        self.out = TLSOutBuffer(connection, self.fd_out)

    def close(self, within: float = 2.0) -> None:
        """Sends what is still queued (for up to ``within`` seconds), then closes the connection:
        the interchange sees the block's stream end."""
        deadline = time.monotonic() + within
        try:
            while not self.out.flush():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                select.select([self.fd_in], [self.fd_out], [], left)
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()
        os.close(self.fd_out)
