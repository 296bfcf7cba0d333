"""The connect-back pair, with real processes, real TLS and real sockets on 127.0.0.1: a relay
(``python -m sprig.connect_relay``) and connectors (``python -c CONNECTOR_SOURCE``) whose loader
is an echo program."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from sprig import connector

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ECHO = ["-c", "import sys\nfor line in sys.stdin.buffer:\n    sys.stdout.buffer.write(b'echo:' + line); sys.stdout.buffer.flush()"]


def _certificate(folder, name):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", f"{folder}/{name}.key", "-out", f"{folder}/{name}.pem", "-days", "1", "-subj", "/CN=t"],
                   check=True, capture_output=True)
    return f"{folder}/{name}.pem", f"{folder}/{name}.key"


@pytest.fixture
def relay(tmp_path):
    cert, key = _certificate(tmp_path, "run")
    secret = os.urandom(32).hex()
    process = subprocess.Popen([sys.executable, "-m", "sprig.connect_relay", "--address", "127.0.0.1", "--ports", "54500-54600",
                                "--cert", cert, "--key", key, "--block", "7", "--heartbeat", "0.2"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=PYTHON_DIR)
    process.stdin.write(json.dumps({"secret": secret}).encode() + b"\n")
    process.stdin.flush()
    words = process.stdout.readline().split()
    assert words[0] == b"SPRIG-RELAY"
    details = {"address": "127.0.0.1", "port": int(words[1]), "fingerprint": words[2].decode(), "secret": secret, "block": 7}
    yield process, details, tmp_path
    process.kill()
    process.wait()


def _connector(details, loader=ECHO):
    process = subprocess.Popen([sys.executable, "-c", connector.source()], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdin.write(json.dumps(dict(details, loader=loader)).encode() + b"\n")
    process.stdin.close()
    return process


def _frames_then_line(stream):
    """Skips the relay's HEARTBEAT frames (5 bytes each) and returns the next line."""
    while True:
        head = stream.read(5)
        if head != b"\x00\x00\x00\x00\x05":
            return head + stream.readline()


def _echo_through(process, good, text):
    """Sends ``text`` through the relay to the echo loader and back, then ends both."""
    process.stdin.write(text + b"\n")
    process.stdin.flush()
    assert _frames_then_line(process.stdout) == b"echo:" + text + b"\n"
    process.stdin.close()
    assert good.wait(20) == 0


def test_strangers_are_dropped_within_a_second_and_the_manager_then_connects(relay):
    process, details, _ = relay
    plain = socket.create_connection(("127.0.0.1", details["port"]))
    plain.sendall(b"\x00" * 64)
    plain.settimeout(5)
    started = time.monotonic()
    try:
        while plain.recv(100):
            pass
    except OSError:
        pass
    assert time.monotonic() - started < 1.5
    wrong = _connector(dict(details, secret="00" * 32))
    assert wrong.wait(10) == connector.CONNECT_FAILED
    _echo_through(process, _connector(details), b"hello")
    assert process.wait(20) == 0
    log = process.stderr.read().decode()
    assert log.count("dropped a connection") == 2 and "no longer listening" in log


def test_a_connector_refuses_a_relay_with_another_certificate(relay):
    process, details, folder = relay
    other, _ = _certificate(folder, "other")
    with open(other, encoding="ascii") as handle:
        import ssl

        pinned = connector.fingerprint(ssl.PEM_cert_to_DER_cert(handle.read()))
    refused = _connector(dict(details, fingerprint=pinned))
    assert refused.wait(10) == connector.CONNECT_FAILED
    assert b"not the run's" in refused.stderr.read()
    # The relay is unaffected: the right connector still gets through.
    _echo_through(process, _connector(details), b"x")


def test_the_relay_exits_when_the_engine_gives_the_block_up_before_it_connects(relay):
    process, _, _ = relay
    process.stdin.close()
    assert process.wait(5) == 0
    assert "ended the block before its manager connected" in process.stderr.read().decode()
