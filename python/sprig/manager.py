"""A Sprig manager: one per block; relays tasks from the interchange to its worker processes.

Started as ``python3.11 -m sprig.manager --workers N --block-id B ...`` (the options:
:mod:`sprig.manager_options`). It talks to the interchange only through its stdin (frames in) and
stdout (frames out), and to each worker through two pipes. This module is the event loop and the
interchange link; :mod:`sprig.dispatch` routes tasks, :mod:`sprig.worker_pool` owns the worker
processes, :mod:`sprig.process_tree` signals them. See PROTOCOL.md for the frames and the rules.

Exit status: 0 after SHUTDOWN or end of input, 1 internal or protocol error, 2 bad arguments,
3 HELLO_ACK refused, 4 workers keep failing to start, 5 no frames from the interchange within the
heartbeat threshold, 128+N after signal N (SIGTERM, SIGINT, SIGHUP).
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import sys
import time

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    import ssl
    from typing import Any

    from sprig.tls_link import TLSLink

from sprig import protocol as P
from sprig import segments, serialize
from sprig.dispatch import EXIT_WORKERS, QUICK_GRACE, Dispatcher
from sprig.isolation import isolate_stdio
from sprig.manager_options import Options, parse_args
from sprig.worker_pool import IN, watch_writable

log = logging.getLogger("sprig.manager")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_HEARTBEAT = 5

SHUTDOWN_GRACE = 2.0  # seconds workers get to stop after SHUTDOWN
# Seconds workers get to end their commands (process_tree.STOP_GRACE) and exit after a signal.
SIGNAL_GRACE = 0.35

__all__ = ["Manager", "Options", "parse_args", "main", "EXIT_OK", "EXIT_ERROR", "EXIT_USAGE", "EXIT_REFUSED",
           "EXIT_WORKERS", "EXIT_HEARTBEAT"]


class Manager(Dispatcher):
    """The manager's event loop over stdin, stdout, the worker pipes and a signal wake-up pipe."""

    def __init__(self, options: Options, fd_in: int, fd_out: int, link: TLSLink | None = None) -> None:
        self.options = options
        # The engine that owns the run's segments, named by its probe: if it is gone when this
        # manager ends (killed by SIGKILL), the manager removes what the run left in /dev/shm.
        self.segment_owner = segments.probe_owner(options.shared_memory) if options.shared_memory else None
        if link is not None:
            # A connect-back block: the manager reads and writes the TLS connection itself.
            fd_in, fd_out = link.fd_in, link.fd_out
        self.fd_in = fd_in
        self.fd_out = fd_out
        self.reader = P.FrameReader(fd_in) if link is None else link.reader
        self.out = P.OutBuffer(fd_out) if link is None else link.out
        self.out_writing = False
        self.poller = select.poll()
        self.init_pool(options)
        self.init_dispatch()
        self.acked = False
        self.stats_due = False
        self.stopping = False
        self.exit_code = EXIT_OK
        self.grace = QUICK_GRACE
        self.host = os.uname().nodename
        now = time.monotonic()
        self.now = now
        self.last_received = now
        self.next_heartbeat = now + options.heartbeat_period
        self.next_kill_check: float | None = None
        self.signalled: int | None = None
        self.child_event = False
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)

    # -- set-up ---------------------------------------------------------------------------------

    def hello(self) -> bytes:
        """The HELLO body."""
        info = {
            "protocol": P.PROTOCOL_VERSION,
            "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
            "python_full": sys.version.split()[0],
            "serializer": serialize.serializer_name(),
            "serializer_version": serialize.serializer_version(),
            "host": self.host,
            "pid": os.getpid(),
            "workers": self.options.workers,
            "block": self.options.block_id,
            "executable": sys.executable,
            "shared_memory": self.options.shared_memory is not None,
            # A local block on the two-hop path: ready workers' pipes go to the engine.
            "hands_off_workers": self.handoff is not None,
        }
        return json.dumps(info).encode("utf-8")

    def install_signals(self) -> None:
        """SIGTERM/SIGINT/SIGHUP stop the manager; SIGCHLD wakes it to reap workers."""
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)

        def on_stop(number: int, _frame: Any) -> None:
            self.signalled = number

        def on_child(_number: int, _frame: Any) -> None:
            self.child_event = True

        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(number, on_stop)
        signal.signal(signal.SIGCHLD, on_child)

    # -- main loop --------------------------------------------------------------------------------

    def run(self) -> int:
        """Sends HELLO, starts the workers and serves until told to stop; returns the exit status."""
        self.out.append(P.frame(P.HELLO, self.hello()))
        self.flush_out()
        self.install_signals()
        for index in range(self.options.workers):
            self.spawn(index)
        self.poller.register(self.fd_in, IN)
        self.poller.register(self.wake_r, IN)
        if self.handoff is not None:
            self.poller.register(self.handoff.fd, IN)
        while not self.stopping:
            events = self.poller.poll(self._timeout_ms())
            self.now = time.monotonic()
            for fd, mask in events:
                if fd == self.fd_in:
                    self.on_input()
                elif fd == self.wake_r:
                    self._drain_wake()
                elif fd == self.fd_out:
                    self.flush_out()
                elif fd in self.readers:
                    self.on_worker_output(self.readers[fd])
                elif fd in self.writers:
                    self.flush_worker(self.writers[fd])
                elif self.handoff is not None and fd == self.handoff.fd:
                    self.on_engine_frames(self.now)
                if self.stopping:
                    break
            self.maintain(self.now)
        self.shut_down()
        return self.exit_code

    def shut_down(self) -> None:
        """Stops reading the interchange, stops the workers, writes what output is left."""
        try:
            self.poller.unregister(self.fd_in)
        except (KeyError, ValueError):
            pass
        self.stop_workers()
        if self.handoff is not None:
            self.handoff.close()
        try:
            self.out.flush()
        except OSError:
            pass
        if self.options.shared_memory:
            removed = segments.sweep_if_owner_gone(self.options.shared_memory, self.segment_owner)
            if removed:
                log.info("the engine is gone: removed the %d files its run left in %s", removed, segments.SHM_DIR)

    def _timeout_ms(self) -> int:
        now = time.monotonic()
        until = min(self.next_heartbeat, self.last_received + self.options.heartbeat_threshold) - now
        if self.next_kill_check is not None:
            until = min(until, self.next_kill_check - now)
        if self.next_recall is not None:
            until = min(until, self.next_recall - now)
        # poll() takes at most 2**31-1 ms: a longer wait (a heartbeat period of weeks, say) is
        # that long, and the loop simply comes round again.
        return max(0, int(min(until * 1000, 2**31 - 2)) + 1)

    def maintain(self, now: float) -> None:
        """Everything after a round of events: signals, reaping, respawns, dispatch, output."""
        if self.signalled is not None:
            number = self.signalled
            self.signalled_stop = True
            self.stop(f"received signal {number}", 128 + number, SIGNAL_GRACE)
            return
        if self.child_event:
            self.child_event = False
            self.reap()
        if self.stopping:
            return
        due = self.finish_kills(now)
        self.next_kill_check = None if due is None else now + due
        while self.to_spawn:
            self.spawn(self.to_spawn.pop(0))
        self.dispatch()
        self.send_results()
        if now >= self.next_heartbeat:
            self.reap()
            self.check_silent(now)
            self.out.append(P.frame(P.HEARTBEAT))
            self.stats_due = True
            self.next_heartbeat = now + self.options.heartbeat_period
        if self.stats_due and self.acked:
            self.send_stats()
        if now - self.last_received > self.options.heartbeat_threshold:
            self.stop(
                f"nothing from the interchange for {self.options.heartbeat_threshold:g} s", EXIT_HEARTBEAT, QUICK_GRACE
            )
        self.flush_out()

    def stop(self, reason: str, code: int, grace: float) -> None:
        """Ends the loop; the workers are then stopped within ``grace`` seconds."""
        if self.stopping:
            return
        log.info("stopping: %s", reason)
        self.stopping = True
        self.exit_code = code
        self.grace = grace

    def _drain_wake(self) -> None:
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass

    # -- interchange link -------------------------------------------------------------------------

    def on_input(self) -> None:
        """Reads frames from the interchange."""
        frames = self.reader.read()
        if frames is None:
            self.stop("the interchange closed its end (end of input)", EXIT_OK, QUICK_GRACE)
            return
        self.last_received = time.monotonic()
        for frame_type, body in frames:
            self.on_frame(frame_type, body)
            if self.stopping:
                return

    def on_frame(self, frame_type: int, body: memoryview) -> None:
        """Handles one frame from the interchange."""
        if frame_type == P.TASKS:
            self.on_tasks(body)
        elif frame_type == P.HEARTBEAT:
            pass
        elif frame_type == P.KILL_TASK:
            if len(body) != 8:
                raise P.ProtocolError(f"KILL_TASK body of {len(body)} bytes, not 8")
            (task_id,) = P.U64.unpack_from(body, 0)
            self.kill_task(task_id)
        elif frame_type == P.HELLO_ACK:
            self.on_ack(body)
        elif frame_type == P.SHUTDOWN:
            self.stop("SHUTDOWN received", EXIT_OK, SHUTDOWN_GRACE)
        else:
            log.warning("ignoring frame of unknown type %d (%d bytes)", frame_type, len(body))

    def on_ack(self, body: memoryview) -> None:
        try:
            answer = json.loads(bytes(body).decode("utf-8"))
        except ValueError as exc:
            raise P.ProtocolError(f"HELLO_ACK is not JSON: {exc}") from None
        if isinstance(answer, dict) and answer.get("ok") is True:
            log.info("interchange accepted this manager")
            self.acked = True
            self.stats_due = True
            return
        error = answer.get("error", "no reason given") if isinstance(answer, dict) else repr(answer)
        log.error("interchange refused this manager: %s", error)
        self.stop("HELLO_ACK refused", EXIT_REFUSED, QUICK_GRACE)

    def send_results(self) -> None:
        """Sends the results collected so far in one RESULTS frame (only after HELLO_ACK)."""
        if not self.result_count or not self.acked:
            return
        self.out.append(P.frame_header(P.RESULTS, 4 + self.result_bytes))
        self.out.append(P.U32.pack(self.result_count))
        self.out.extend(self.results)
        self.results = []
        self.result_count = 0
        self.result_bytes = 0

    def send_stats(self) -> None:
        self.stats_due = False
        live = [slot for slot in self.slots if slot is not None and slot.status is None]
        pids = [slot.pid for slot in live]
        stats = {
            "workers": sum(1 for slot in live if slot.accepting or (slot.handed and not slot.killing)),
            "queued": len(self.queue),
            "running": sum(len(slot.inflight) for slot in live),
            "worker_pids": pids,
            "block": self.options.block_id,
            "kills_pending": len(self.killed),
        }
        self.out.append(P.frame(P.STATS, json.dumps(stats).encode("utf-8")))

    def flush_out(self) -> None:
        """Writes what stdout takes now; watches for writability when something is left."""
        try:
            done = self.out.flush()
        except OSError as exc:
            self.out.clear()
            self.stop(f"cannot write to the interchange: {exc}", EXIT_OK, QUICK_GRACE)
            return
        self.out_writing = watch_writable(self.poller, self.fd_out, self.out_writing, done)


def _setup_logging(options: Options) -> None:
    level = logging.DEBUG if options.worker_debug else logging.INFO
    fmt = f"%(asctime)s manager[%(process)d] block {options.block_id} %(levelname)s %(message)s"
    if options.logdir:
        os.makedirs(options.logdir, exist_ok=True)
        logging.basicConfig(level=level, filename=os.path.join(options.logdir, "manager.log"), format=fmt)
    else:
        logging.basicConfig(level=level, stream=sys.stderr, format=fmt)


def main(argv: list[str] | None = None, connection: ssl.SSLSocket | None = None) -> int:
    """Entry point of ``python -m sprig.manager``; with ``connection`` (a connect-back block's TLS
    connection, authenticated by :mod:`sprig.connector`), the manager's link is that connection,
    which it closes on return, instead of its stdin and stdout."""
    if connection is not None:
        return _main_over_tls(argv, connection)
    fd_in, fd_out = isolate_stdio()
    options = _start(argv)
    was_blocking = os.get_blocking(fd_out)
    os.set_blocking(fd_out, False)
    try:
        return _serve(Manager(options, fd_in, fd_out))
    finally:
        try:
            os.set_blocking(fd_out, was_blocking)
        except OSError:
            pass
        logging.shutdown()


def _main_over_tls(argv: list[str] | None, connection: ssl.SSLSocket) -> int:
    """:func:`main` for a connect-back block: stdin and stdout carry nothing (they are pointed at
    /dev/null and stderr all the same, so that user code cannot read or corrupt anything)."""
    from sprig.tls_link import TLSLink

    for fd in isolate_stdio():
        os.close(fd)
    options = _start(argv)
    link = TLSLink(connection)
    try:
        return _serve(Manager(options, link.fd_in, link.fd_out, link=link))
    finally:
        link.close()
        logging.shutdown()


def _start(argv: list[str] | None) -> Options:
    """The manager's options; it leads a session of its own, and logs where they say."""
    options = parse_args(sys.argv[1:] if argv is None else argv)
    if os.getpgrp() != os.getpid():
        try:
            os.setsid()
        except OSError:
            pass
    _setup_logging(options)
    return options


def _serve(manager: Manager) -> int:
    """Runs ``manager``; its exit status (EXIT_ERROR after a protocol or internal error)."""
    try:
        return manager.run()
    except P.ProtocolError as exc:
        log.error("protocol error on the interchange link: %s", exc)
        manager.stopping = True
        manager.grace = QUICK_GRACE
        manager.shut_down()
        return EXIT_ERROR
    except Exception:
        log.exception("manager failed")
        manager.stopping = True
        manager.grace = QUICK_GRACE
        manager.shut_down()
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
