"""The submit side's end of a connect-back block (Slurm): one relay process per block, started by
the engine's provider, whose stdin and stdout are the block's stream as the engine sees it.

``python -m sprig.connect_relay --address A --ports LO-HI --cert CERT --key KEY --block B
[--heartbeat S]``; then, on stdin, one line ``{"secret": HEX}`` (never on the command line),
followed by the engine's bytes for the manager (the zero-install bundle, then frames).

It listens on ``A`` (one port of ``LO..HI``) only, and writes one line on stdout,
``SPRIG-RELAY <port> <sha256 of the certificate>``, before anything else. It accepts
connections until one proves the run's secret over TLS (see :mod:`sprig.connector` and
PROTOCOL.md, "Connect-back"); a peer that does not (no TLS, a wrong secret, silence) is dropped
within a second and the relay keeps waiting. Then it stops listening and relays bytes between
the connection and its stdin/stdout until the connection ends, and exits. Until the manager
connects it writes a HEARTBEAT frame every ``S`` seconds (the block is waiting on its
scheduler, not lost); it exits at once when its stdin ends before that (the engine gave up the
block). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import select
import socket
import ssl
import sys
import threading
import time

from sprig.connector import MAGIC, NONCE, fingerprint, mac, pump, read_exact

#: A HEARTBEAT frame: empty body, type 5 (PROTOCOL.md, "Frames").
HEARTBEAT = b"\x00\x00\x00\x00\x05"
#: How long a peer has to finish TLS and prove the secret.
PEER_DEADLINE = 1.0


def _log(message: str) -> None:
    sys.stderr.write(f"sprig relay: {message}\n")
    sys.stderr.flush()


def _bind(address: str, low: int, high: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    last: OSError | None = None
    for port in range(low, high + 1):
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.bind((address, port))
            listener.listen(8)
            return listener
        except OSError as exc:
            last = exc
            listener.close()
    raise OSError(f"no free port on {address} in {low}-{high}: {last}")


def _authenticate(raw: socket.socket, context: ssl.SSLContext, secret: bytes, block: int) -> ssl.SSLSocket:
    """The TLS connection of a peer that proved the secret; raises for any other peer."""
    raw.settimeout(PEER_DEADLINE)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # frames are small and answered at once
    deadline = time.monotonic() + PEER_DEADLINE
    sock = context.wrap_socket(raw, server_side=True)
    own_nonce = os.urandom(NONCE)
    sock.sendall(MAGIC + own_nonce)
    sock.settimeout(max(0.01, deadline - time.monotonic()))
    answer = read_exact(sock, NONCE + 32)
    peer_nonce, proof = answer[:NONCE], answer[NONCE:]
    import hmac

    if not hmac.compare_digest(proof, mac(secret, b"connector", block, own_nonce, peer_nonce)):
        raise ConnectionError("it could not prove the run's secret")
    sock.sendall(mac(secret, b"relay", block, peer_nonce, own_nonce))
    sock.settimeout(None)
    return sock


def _read_line(fd: int) -> bytes:
    """One line from ``fd``, read a byte at a time so that nothing after it is taken."""
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
    return line


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def wait_for_manager(listener: socket.socket, context: ssl.SSLContext, secret: bytes, block: int,
                     heartbeat: float) -> tuple[ssl.SSLSocket | None, bytearray]:
    """Waits until a peer proves the secret, buffering stdin meanwhile. Returns the connection
    (``None`` when stdin ended first) and what stdin gave until then."""
    buffered = bytearray()
    verified: queue.Queue[ssl.SSLSocket] = queue.Queue()
    wake_read, wake_write = os.pipe()
    done = threading.Event()

    def check(raw: socket.socket, peer: object) -> None:
        try:
            sock = _authenticate(raw, context, secret, block)
        except (OSError, ssl.SSLError, ConnectionError, ValueError) as exc:
            _log(f"block {block}: dropped a connection from {peer}: {exc}")
            raw.close()
            return
        if done.is_set():
            sock.close()
            return
        verified.put(sock)
        os.write(wake_write, b"x")

    next_beat = time.monotonic() + heartbeat
    try:
        while True:
            timeout = max(0.0, next_beat - time.monotonic())
            ready, _, _ = select.select([0, listener, wake_read], [], [], timeout)
            if 0 in ready:
                data = os.read(0, 1 << 18)
                if not data:
                    return None, buffered
                buffered += data
            if listener in ready:
                raw, peer = listener.accept()
                threading.Thread(target=check, args=(raw, peer), daemon=True).start()
            if wake_read in ready:
                return verified.get(), buffered
            if time.monotonic() >= next_beat:
                _write_all(1, HEARTBEAT)
                next_beat = time.monotonic() + heartbeat
    finally:
        done.set()
        os.close(wake_read)
        os.close(wake_write)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sprig.connect_relay")
    parser.add_argument("--address", required=True)
    parser.add_argument("--ports", required=True, help="LOW-HIGH")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--block", type=int, required=True)
    parser.add_argument("--heartbeat", type=float, default=2.0)
    options = parser.parse_args(argv)
    try:
        low, high = (int(part) for part in options.ports.split("-"))
        secret = bytes.fromhex(json.loads(_read_line(0))["secret"])
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(options.cert, options.key)
        with open(options.cert, encoding="ascii") as handle:
            digest = fingerprint(ssl.PEM_cert_to_DER_cert(handle.read()))
        listener = _bind(options.address, low, high)
    except (OSError, ValueError, KeyError, ssl.SSLError) as exc:
        _log(f"block {options.block}: cannot listen: {exc}")
        return 2
    port = listener.getsockname()[1]
    _write_all(1, f"SPRIG-RELAY {port} {digest}\n".encode())
    _log(f"block {options.block}: listening on {options.address}:{port}")
    try:
        sock, buffered = wait_for_manager(listener, context, secret, options.block, options.heartbeat)
    finally:
        listener.close()
    if sock is None:
        _log(f"block {options.block}: the engine ended the block before its manager connected")
        return 0
    _log(f"block {options.block}: manager connected from {sock.getpeername()[0]}; no longer listening")
    sock.setblocking(True)
    sock.sendall(bytes(buffered))
    reason = pump(sock, 0, 1, stop_on_read_eof=False)
    _log(f"block {options.block}: {reason}")
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
