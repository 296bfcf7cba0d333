"""The compute node's end of a connect-back block (Slurm): connects to the engine on the submit
side over TLS (the engine terminates it itself, with OpenSSL), pins the run's certificate by its
SHA-256 fingerprint, proves it knows the run's secret (and makes the engine prove it too), reads
Sprig's bundle from the connection and runs the zero-install loader in this process, handing it the
connection: the manager reads and writes its frames over TLS itself (:mod:`sprig.tls_link`), with
no process or pipe between. See PROTOCOL.md, "Connect-back".

It is shipped inline, like the bootstrap: the submit script runs ``python3 -c CONNECTOR_SOURCE``
(this file's text, :func:`source`) with one JSON line on its stdin, never on its command line::

    {"address": A, "fingerprint": HEX, "secret": HEX,
     "nodes": [{"block": B, "port": P, "boot": [the loader's arguments: bootstrap.boot's argv]}, ...]}

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
import socket
import ssl
import struct
import sys

MAGIC = b"SPRIG-CONNECT-1\n"
BUNDLE_MAGIC = b"SPRIGBN1"
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


def load_bootstrap(bundle):
    """``boot`` of ``sprig/bootstrap.py`` in ``bundle`` (a zip whose first member it is, stored),
    taken out as stage 0 of the bootstrap does (``sprig.bundle``)."""
    name_length, extra_length = struct.unpack("<HH", bundle[26:30])
    if not (bundle[:4] + bundle[6:10] == b"PK\3\4\0\0\0\0" and bundle[30:30 + name_length] == b"sprig/bootstrap.py"):
        raise ValueError("bad bundle: its first member is not sprig/bootstrap.py, stored")
    start = 30 + name_length + extra_length
    source = bundle[start:start + struct.unpack("<I", bundle[18:22])[0]]
    namespace = {"__name__": "sprig_bootstrap"}
    exec(compile(source, "<bundle>/sprig/bootstrap.py", "exec"), namespace)
    return namespace["boot"]


def read_bundle(sock, timeout=60.0):
    """The zip of the bundle the engine sends first on the connection."""
    sock.settimeout(timeout)
    header = read_exact(sock, 12)
    if not header.startswith(BUNDLE_MAGIC):
        raise ConnectionError("the engine did not send a sprig bundle first (%r)" % header[:8])
    return read_exact(sock, struct.unpack("<I", header[8:])[0])


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
    try:
        bundle = read_bundle(sock)
        boot = load_bootstrap(bundle)
    except (ValueError, OSError, ConnectionError, struct.error) as exc:
        sys.stderr.write("sprig connector: block %s: no bundle from the engine: %s\n" % (config["block"], exc))
        sock.close()
        sys.exit(CONNECT_FAILED)
    # The manager runs in this process and closes the connection when it ends.
    sys.exit(boot(bundle, list(config["boot"]), connection=sock))


def source():
    """This file's text, for ``python3 -c``."""
    with open(os.path.abspath(__file__), encoding="utf-8") as handle:
        return handle.read()


if __name__ == "__main__":
    main()
