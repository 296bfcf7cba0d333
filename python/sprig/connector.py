"""The compute node's end of a connect-back block (Slurm): connects to the engine on the submit
side over TLS (the engine terminates it itself, with OpenSSL), pins the run's certificate by its
SHA-256 fingerprint, proves it knows the run's secret (and makes the engine prove it too), then
runs the zero-install loader (the manager) with its stdin and stdout relayed to the connection.
See PROTOCOL.md, "Connect-back".

It is shipped inline, like the bootstrap: the submit script runs ``python3 -c CONNECTOR_SOURCE``
(this file's text, :func:`source`) with one JSON line on its stdin, never on its command line::

    {"address": A, "fingerprint": HEX, "secret": HEX,
     "nodes": [{"block": B, "port": P, "loader": [ARGV of the loader, after the interpreter]}, ...]}

A job of several nodes carries one block per node: each copy takes the entry of its index,
``$SPRIG_NODE_INDEX`` (set by the submit script) or else ``$SLURM_PROCID`` (set by ``srun``).

The engine's side of the handshake is ``Sources/Sprig/Providers/ConnectBack/ConnectProof.swift``;
its proofs use the role name ``relay`` (the name it had when a relay process did this), so the
wire did not change. Standard library only; valid Python 3.6 (the node's
interpreter is checked by the loader after this runs): no f-strings, no annotations.
"""

import hashlib
import hmac
import json
import os
import select
import socket
import ssl
import sys

MAGIC = b"SPRIG-CONNECT-1\n"
NONCE = 32
#: Exit status when the engine cannot be reached or refuses us (the job's stderr says why).
CONNECT_FAILED = 75


def mac(secret, role, block, first, second):
    """The proof of ``role`` (b"connector", or b"relay" for the engine) for ``block``, over both nonces."""
    message = b"|".join([MAGIC.strip(), role, str(block).encode(), first, second])
    return hmac.new(secret, message, hashlib.sha256).digest()


def read_exact(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("the peer closed the connection during the handshake")
        data += chunk
    return data


def fingerprint(der):
    return hashlib.sha256(der).hexdigest()


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def pump(sock, read_fd, write_fd, stop_on_read_eof, linger=10.0):
    """Relays bytes both ways, in one thread (an SSL object is not shared between threads): what
    ``read_fd`` gives goes to ``sock``, what ``sock`` gives goes to ``write_fd``. Returns a reason
    when the connection ends; when ``read_fd`` ends, returns once what it gave is sent if
    ``stop_on_read_eof``, else keeps relaying from ``sock`` until it ends, for ``linger`` seconds
    at most (the peer was asked to stop and should close soon)."""
    import time

    sock.setblocking(False)
    outgoing = bytearray()
    read_open = True
    deadline = None
    limit = 1 << 20
    while True:
        if deadline is not None and time.monotonic() >= deadline:
            return "input ended %.0f s ago and the peer did not close" % linger
        readers = [sock]
        if read_open and len(outgoing) < limit:
            readers.append(read_fd)
        writers = [sock] if outgoing else []
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready_read, ready_write, _ = select.select(readers, writers, [], wait if sock.pending() == 0 else 0)
        if read_fd in ready_read:
            data = os.read(read_fd, 1 << 18)
            if not data:
                read_open = False
                deadline = None if stop_on_read_eof else time.monotonic() + linger
                if stop_on_read_eof and not outgoing:
                    return "end of input"
            outgoing += data
        if sock in ready_read or sock.pending():
            # Every record the socket holds now goes to the manager in one write.
            incoming = bytearray()
            ended = None
            while len(incoming) < limit:
                try:
                    data = sock.recv(1 << 18)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    break
                except (OSError, ssl.SSLError) as exc:
                    ended = "the connection broke: %s" % exc
                    break
                if not data:
                    ended = "the connection was closed"
                    break
                incoming += data
            if incoming:
                _write_all(write_fd, incoming)
            if ended:
                return ended
        if outgoing and (sock in ready_write or not writers):
            try:
                sent = sock.send(outgoing)
                del outgoing[:sent]
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                pass
            except (OSError, ssl.SSLError) as exc:
                return "the connection broke: %s" % exc
            if not outgoing and not read_open and stop_on_read_eof:
                return "end of input"


def connect(config, timeout=10.0):
    """A TLS connection to the engine that passed both checks (pinned certificate, secret)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # Trust is the pinned fingerprint below, not a CA or a host name.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection((config["address"], int(config["port"])), timeout=timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # frames are small and answered at once
    sock = context.wrap_socket(raw)
    if not hmac.compare_digest(fingerprint(sock.getpeercert(binary_form=True)), config["fingerprint"]):
        sock.close()
        raise ConnectionError("the engine at %s:%s showed a certificate that is not the run's" % (config["address"], config["port"]))
    secret = bytes.fromhex(config["secret"])
    block = config["block"]
    greeting = read_exact(sock, len(MAGIC) + NONCE)
    if not greeting.startswith(MAGIC):
        raise ConnectionError("the engine did not greet with %r" % MAGIC)
    relay_nonce = greeting[len(MAGIC):]
    own_nonce = os.urandom(NONCE)
    sock.sendall(own_nonce + mac(secret, b"connector", block, relay_nonce, own_nonce))
    answer = read_exact(sock, 32)
    if not hmac.compare_digest(answer, mac(secret, b"relay", block, own_nonce, relay_nonce)):
        raise ConnectionError("the engine could not prove the run's secret")
    sock.settimeout(None)
    return sock


def main():
    import signal
    import subprocess

    line = sys.stdin.buffer.readline()
    try:
        config = json.loads(line.decode())
        if "nodes" in config:
            index = int(os.environ.get("SPRIG_NODE_INDEX") or os.environ.get("SLURM_PROCID") or 0)
            config.update(config["nodes"][index])
        sock = connect(config)
    except (ValueError, KeyError, IndexError, OSError, ConnectionError) as exc:
        sys.stderr.write("sprig connector: cannot connect to the engine: %s\n" % exc)
        sys.exit(CONNECT_FAILED)
    sys.stderr.write("sprig connector: block %s connected to %s:%s\n" % (config["block"], config["address"], config["port"]))
    sys.stderr.flush()
    # The loader leads a session of its own, so that it and its workers can be ended together.
    child = subprocess.Popen([sys.executable] + list(config["loader"]), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             start_new_session=True)
    reason = pump(sock, child.stdout.fileno(), child.stdin.fileno(), stop_on_read_eof=True)
    sys.stderr.write("sprig connector: block %s: %s\n" % (config["block"], reason))
    try:
        sock.close()
        child.stdin.close()
    except OSError:
        pass
    try:
        code = child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        code = child.wait()
    sys.exit(code if code >= 0 else 128 - code)


def source():
    """This file's text, for ``python3 -c``."""
    with open(os.path.abspath(__file__), encoding="utf-8") as handle:
        return handle.read()


if __name__ == "__main__":
    main()
