"""The manager's TLS link (sprig.tls_link) over a real TLS 1.3 connection: frames in, frames out,
back-pressure, the connection's end; and a connector that boots a manager in its own process
over the connection it authenticated (what a Slurm node runs), against a small engine here."""

from __future__ import annotations

import json
import os
import select
import socket
import ssl
import struct
import subprocess
import threading
from pathlib import Path
from typing import Iterator

import pytest

from client import HELLO, HELLO_ACK, PY, RESULTS, SHUTDOWN, STATS, TASKS, Deadline, decode_results, encode_task, manager_env, wait_gone
from sprig import connector
from sprig import protocol as P
from sprig import serialize
from sprig.bundle import make_bundle
from sprig.tls_link import TLSLink

HEADER = struct.Struct("<IB")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=sprig-test"],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def server_context(certificate: tuple[str, str]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def pair(certificate: tuple[str, str]) -> Iterator[tuple[ssl.SSLSocket, ssl.SSLSocket]]:
    """(the engine's end, the manager's end) of one TLS connection."""
    left, right = socket.socketpair()
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    made: dict[str, ssl.SSLSocket] = {}
    thread = threading.Thread(target=lambda: made.setdefault("server", server_context(certificate).wrap_socket(left, server_side=True)))
    thread.start()
    manager_end = client.wrap_socket(right)
    thread.join(10)
    engine_end = made["server"]
    engine_end.settimeout(10)
    yield engine_end, manager_end
    engine_end.close()
    manager_end.close()


def read_frames(reader: P.FrameReader, count: int, seconds: float = 10) -> list[tuple[int, bytes]]:
    deadline = Deadline(seconds)
    frames: list[tuple[int, bytes]] = []
    while len(frames) < count:
        assert not deadline.passed(), f"{len(frames)} of {count} frames"
        select.select([reader.fd], [], [], deadline.left())
        got = reader.read()
        assert got is not None, "the connection ended"
        frames += [(kind, bytes(body)) for kind, body in got]
    return frames


def test_frames_in_many_records_and_one_large_body_arrive_whole(pair) -> None:
    engine, manager = pair
    link = TLSLink(manager)
    bodies = [os.urandom(n) for n in (0, 5, 40_000, 300_000, 7)]
    stream = b"".join(HEADER.pack(len(body), TASKS) + body for body in bodies)
    # A header cut in two, then the rest in 16 KiB records (from a thread: more than the socket holds).
    sender = threading.Thread(target=lambda: (engine.sendall(stream[:3]), engine.sendall(stream[3:])))
    sender.start()
    assert read_frames(link.reader, len(bodies)) == [(TASKS, body) for body in bodies]
    sender.join(10)
    link.close()


def test_a_full_connection_keeps_the_rest_and_sends_it_unchanged_once_read(pair) -> None:
    engine, manager = pair
    link = TLSLink(manager)
    frames = [P.frame(RESULTS, os.urandom(100_000)) for _ in range(80)]  # 8 MB: more than the socket holds
    link.out.extend(frames)
    assert link.out.flush() is False, "the peer reads nothing yet"
    expected = b"".join(frames)
    got = bytearray()
    deadline = Deadline(20)
    while len(got) < len(expected):
        assert not deadline.passed()
        if link.out.pending:
            link.out.flush()
        if select.select([engine], [], [], 0.05)[0]:
            got += engine.recv(1 << 20)
    assert link.out.pending == 0 and bytes(got) == expected
    link.close()


def test_the_end_of_the_connection_is_the_end_of_input_and_inside_a_frame_a_protocol_error(pair) -> None:
    engine, manager = pair
    link = TLSLink(manager)
    engine.sendall(HEADER.pack(10, TASKS) + b"12345")
    engine.close()
    with pytest.raises(P.ProtocolError):
        read_frames(link.reader, 1)
    link.close()


def frame(kind: int, body: bytes = b"") -> bytes:
    return HEADER.pack(len(body), kind) + body


class Engine:
    """The engine's end of a connect-back link, for one connector: listens, runs the handshake
    of PROTOCOL.md ("Connect-back"), then sends the bundle and speaks frames."""

    def __init__(self, certificate: tuple[str, str], secret: bytes, block: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.context = server_context(certificate)
        self.secret, self.block = secret, block
        self.buffer = b""

    def accept(self) -> None:
        self.listener.settimeout(20)
        raw, _ = self.listener.accept()
        self.sock = self.context.wrap_socket(raw, server_side=True)
        self.sock.settimeout(20)
        nonce = os.urandom(32)
        self.sock.sendall(connector.MAGIC + nonce)
        theirs = connector.read_exact(self.sock, 64)
        assert theirs[32:] == connector.mac(self.secret, b"connector", self.block, nonce, theirs[:32])
        self.sock.sendall(connector.mac(self.secret, b"relay", self.block, theirs[:32], nonce))

    def next_frame(self) -> tuple[int, bytes]:
        while True:
            if len(self.buffer) >= HEADER.size:
                length, kind = HEADER.unpack_from(self.buffer)
                if len(self.buffer) >= HEADER.size + length:
                    body = self.buffer[HEADER.size : HEADER.size + length]
                    self.buffer = self.buffer[HEADER.size + length :]
                    return kind, body
            data = self.sock.recv(1 << 16)
            assert data, "the manager closed the connection"
            self.buffer += data

    def frame_of(self, wanted: int) -> bytes:
        while True:
            kind, body = self.next_frame()
            if kind == wanted:
                return body


def test_the_connector_runs_the_manager_over_its_own_tls_connection_and_leaves_nothing(certificate, tmp_path: Path) -> None:
    secret, block = os.urandom(32), 7
    engine = Engine(certificate, secret, block)
    fingerprint = ssl.PEM_cert_to_DER_cert(Path(certificate[0]).read_text())
    boot = ["--script-dir", str(tmp_path / "node"), "--", "--workers", "2", "--block-id", str(block),
            "--heartbeat-period", "0.5", "--heartbeat-threshold", "10"]
    line = {"address": "127.0.0.1", "fingerprint": connector.fingerprint(fingerprint), "secret": secret.hex(),
            "nodes": [{"block": block, "port": engine.port, "boot": boot}]}
    stderr = open(tmp_path / "connector.err", "wb")
    node = subprocess.Popen([PY, "-X", "utf8", "-c", connector.source()], stdin=subprocess.PIPE, stderr=stderr,
                            stdout=subprocess.DEVNULL, env=manager_env(), cwd=str(tmp_path))
    try:
        node.stdin.write((json.dumps(line) + "\n").encode())
        node.stdin.close()
        engine.accept()
        engine.sock.sendall(make_bundle())
        hello = json.loads(engine.frame_of(HELLO))
        assert hello["pid"] == node.pid, "the manager is the connector's own process"
        engine.sock.sendall(frame(HELLO_ACK, json.dumps({"ok": True}).encode()))
        workers = {}
        while len(workers) < 2:
            workers = {pid: None for pid in json.loads(engine.frame_of(STATS))["worker_pids"]}
        function = serialize.dumps_function(sum)
        tasks = [encode_task(n, 0, 1, function if n == 0 else b"", None, serialize.dumps_call(((n, 1),), {})) for n in range(50)]
        engine.sock.sendall(frame(TASKS, struct.pack("<I", len(tasks)) + b"".join(tasks)))
        values = {}
        while len(values) < 50:
            for task_id, status, data in decode_results(engine.frame_of(RESULTS)):
                if status == 0:
                    values[task_id] = serialize.loads(data)
        assert values == {n: n + 1 for n in range(50)}
        engine.sock.sendall(frame(SHUTDOWN))
        while True:  # the manager closes the connection when it has stopped
            try:
                if not engine.sock.recv(1 << 16):
                    break
            except (ssl.SSLError, OSError):
                break
        assert node.wait(10) == 0
        assert wait_gone(workers, 5) == []
    finally:
        if node.poll() is None:
            node.kill()
            node.wait(5)
        stderr.close()
        engine.listener.close()
