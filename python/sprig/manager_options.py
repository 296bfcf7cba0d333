"""The manager's command line: ``python -m sprig.manager --workers N --block-id B [--logdir DIR]
[--heartbeat-period S] [--heartbeat-threshold S] [--prefetch K] [--cpu-affinity A]
[--accelerators A,B,…] [--resource-interval S] [--shared-memory PREFIX] [--worker-socket FD] [--worker-debug]
[--pickle-only]`` (PROTOCOL.md, "Processes"). A bad one exits with status 2
and nothing on stdout."""

from __future__ import annotations

import os

from sprig import affinity
from sprig import segments
from sprig import serialize

DEFAULT_HEARTBEAT_PERIOD = 1.0
DEFAULT_HEARTBEAT_THRESHOLD = 10.0
DEFAULT_PREFETCH = 3


class Options:
    """Command-line options of the manager."""

    __slots__ = (
        "workers",
        "block_id",
        "logdir",
        "heartbeat_period",
        "heartbeat_threshold",
        "prefetch",
        "worker_debug",
        "cpu_affinity",
        "worker_cpus",
        "accelerators",
        "resource_interval",
        "shared_memory",
        "worker_socket",
    )

    def __init__(self) -> None:
        self.workers = 1
        self.block_id = "0"
        self.logdir: str | None = None
        self.heartbeat_period = DEFAULT_HEARTBEAT_PERIOD
        self.heartbeat_threshold = DEFAULT_HEARTBEAT_THRESHOLD
        self.prefetch = DEFAULT_PREFETCH
        self.worker_debug = False
        self.cpu_affinity = affinity.NONE
        self.worker_cpus: list[list[int]] | None = None  # by worker index; None: not pinned
        self.accelerators: list[str] = []  # one per worker, by index; empty: none
        self.resource_interval: float | None = None  # seconds; None: workers send no resource samples
        self.shared_memory: str | None = None  # the run's segment prefix; None: large buffers inline
        self.worker_socket: int | None = None  # a local block's control socket: workers' pipes go to the engine


def parse_args(argv: list[str]) -> Options:
    """Parses the command line (exits with status 2 on a bad one)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m sprig.manager", description="Sprig block manager")
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--block-id", required=True)
    parser.add_argument("--logdir")
    parser.add_argument("--heartbeat-period", type=float, default=DEFAULT_HEARTBEAT_PERIOD)
    parser.add_argument("--heartbeat-threshold", type=float, default=DEFAULT_HEARTBEAT_THRESHOLD)
    parser.add_argument("--prefetch", type=int, default=DEFAULT_PREFETCH)
    parser.add_argument("--worker-debug", action="store_true")
    parser.add_argument("--cpu-affinity", default=affinity.NONE)
    parser.add_argument("--accelerators", default="")
    # Monitoring: workers sample their resource use at the end of every try and this often during one.
    parser.add_argument("--resource-interval", type=float)
    # The engine has no cloudpickle: this manager and its workers pickle without it too, whatever
    # this host has, so that both sides match.
    parser.add_argument("--pickle-only", action="store_true")
    # A local block: workers put large result buffers in shared-memory segments of this run prefix.
    parser.add_argument("--shared-memory")
    # A local block on the two-hop path: an inherited Unix socket (SOCK_SEQPACKET) over which the
    # manager hands each ready worker's pipes to the engine (PROTOCOL.md, "Two-hop local blocks").
    parser.add_argument("--worker-socket", type=int)
    parsed = parser.parse_args(argv)
    if parsed.workers < 1 or parsed.prefetch < 0:
        parser.error("--workers must be at least 1 and --prefetch at least 0")
    if parsed.heartbeat_period <= 0 or parsed.heartbeat_threshold <= 0:
        parser.error("heartbeat period and threshold must be positive")
    if parsed.resource_interval is not None and not parsed.resource_interval > 0:
        parser.error("--resource-interval must be positive")
    if parsed.shared_memory is not None and not segments.valid_name(parsed.shared_memory):
        parser.error("--shared-memory must be a segment prefix: sprig- then letters, digits, - and _")
    try:
        worker_cpus = affinity.plan(parsed.cpu_affinity, parsed.workers, sorted(os.sched_getaffinity(0)))
    except ValueError as exc:
        parser.error(f"--cpu-affinity: {exc}")
    options = Options()
    options.workers = parsed.workers
    options.block_id = parsed.block_id
    options.logdir = parsed.logdir
    options.heartbeat_period = parsed.heartbeat_period
    options.heartbeat_threshold = parsed.heartbeat_threshold
    options.prefetch = parsed.prefetch
    options.worker_debug = parsed.worker_debug
    options.cpu_affinity = parsed.cpu_affinity
    options.worker_cpus = worker_cpus
    options.accelerators = [name for name in parsed.accelerators.split(",") if name]
    options.resource_interval = parsed.resource_interval
    options.shared_memory = parsed.shared_memory
    options.worker_socket = parsed.worker_socket
    if parsed.worker_socket is not None and not _is_seqpacket_socket(parsed.worker_socket):
        # The descriptor did not come through (a launch command or container that closes what it
        # does not know): the manager relays, and says so in HELLO.
        import sys

        print(f"sprig.manager: --worker-socket {parsed.worker_socket} is not an inherited SOCK_SEQPACKET "
              "Unix socket: tasks go through the manager", file=sys.stderr)
        options.worker_socket = None
    if parsed.shared_memory is not None and not os.path.exists(segments.probe_path(parsed.shared_memory)):
        # This manager does not see the engine's /dev/shm (a container, another node): inline.
        import sys

        print(f"sprig.manager: no shared-memory probe {segments.probe_path(parsed.shared_memory)}: "
              "large buffers travel inline", file=sys.stderr)
        options.shared_memory = None
    if parsed.pickle_only:
        serialize.use_pickle_only()
    return options


def _is_seqpacket_socket(fd: int) -> bool:
    import socket

    try:
        probe = socket.socket(fileno=os.dup(fd))
    except OSError:
        return False
    try:
        return probe.family == socket.AF_UNIX and probe.type == socket.SOCK_SEQPACKET
    finally:
        probe.close()
