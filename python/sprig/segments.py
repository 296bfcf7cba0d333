"""POSIX shared-memory segments that carry large pickle buffers between the engine and the workers
of a local block (PROTOCOL.md, "Payloads").

A segment is a file in ``/dev/shm`` (what ``shm_open`` makes on Linux) named
``PREFIX-PID-RANDOM``: ``PREFIX`` is the run's (``sprig-<engine pid>-<random>``, given to the
manager as ``--shared-memory PREFIX``), ``PID`` the writer's, ``RANDOM`` 16 hex digits from
:mod:`secrets`. It is created with ``O_CREAT | O_EXCL | O_NOFOLLOW``, mode 0600, written once with
``write`` and never changed. A reader opens it by name, may unlink it at once (``consume``), and
reads it into a ``bytes`` (read-only buffers) or a ``bytearray`` (writable ones).

Who unlinks what: a task's argument segments are taken by the worker as soon as it has opened
them — renamed to a spare name of its own (``PREFIX-PID-RANDOM`` again), so the engine's name is
gone — and kept as *spares* (at most :data:`SPARE_BYTES` per process): the worker's next result
is written into a spare rather than into fresh pages (allocating and freeing tmpfs pages is most
of the cost of a fresh segment: here 1.7 ms against 0.3 ms per MiB under load); beyond that they
are unlinked. The engine unlinks any argument segment left when the task ends, in case no worker
took it; result segments belong to the
engine, which unlinks them when nothing can read the result any more; the engine removes every
segment of its run's prefix at shutdown, so a killed worker leaves none behind. An engine killed
before its shutdown leaves that to the managers of its local blocks: the probe names the engine
(pid, start time, pid namespace), and a manager whose engine is gone removes every file of the
prefix once its own workers have exited (:func:`sweep_if_owner_gone`); the next engine to start
does the same for runs whose managers died too.
"""

from __future__ import annotations

import errno
import os
import secrets

#: Where segments live (``shm_open``'s folder on Linux).
SHM_DIR = "/dev/shm"

_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


#: The most bytes of spare segments one process keeps for its next writes.
SPARE_BYTES = 8 << 20

_spares: list[tuple[int, str, int]] = []  # (fd, name, size) of spare segments, oldest first


class SegmentError(Exception):
    """A segment could not be written or read; the message names it and says why."""


def valid_name(name: str) -> bool:
    """Whether ``name`` is a segment name Sprig makes: ``sprig-`` then letters, digits, ``-``, ``_``
    (so it cannot leave ``/dev/shm``)."""
    return name.startswith("sprig-") and len(name) <= 200 and all(c in _NAME_CHARACTERS for c in name)


def new_prefix() -> str:
    """A fresh run prefix, ``sprig-<pid>-<12 random hex digits>``."""
    return f"sprig-{os.getpid()}-{secrets.token_hex(6)}"


def probe_path(prefix: str) -> str:
    """The path of the empty file the engine makes for ``prefix``: a manager that sees it shares
    the engine's ``/dev/shm``."""
    return os.path.join(SHM_DIR, prefix + "-probe")


def make_probe(prefix: str) -> None:
    """Makes ``prefix``'s probe (mode 0600; removed by :func:`sweep`), holding this process's
    identity (:func:`process_identity`) as its owner's."""
    fd = os.open(probe_path(prefix), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, ((process_identity() or "") + "\n").encode())
    finally:
        os.close(fd)


def process_identity(pid: int | None = None) -> str | None:
    """``"<pid> <start time> <pid namespace>"`` of a running process (this one by default): its
    start time (clock ticks since boot, ``/proc/PID/stat``) tells it from a later process that got
    the same pid, its pid namespace (``/proc/PID/ns/pid``) in which pids it counts. ``None`` when
    ``/proc`` does not say (no such process, or another user's)."""
    pid = os.getpid() if pid is None else pid
    started = _start_time(pid)
    try:
        namespace = os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None
    return None if started is None else f"{pid} {started} {namespace}"


def _start_time(pid: int) -> str | None:
    """The start time of a live (not zombie) process ``pid``; ``None`` when there is none."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read()
        fields = text[text.rindex(b")") + 2:].split()
    except (OSError, ValueError):
        return None
    if len(fields) < 20 or fields[0] in (b"Z", b"X"):
        return None
    return fields[19].decode()


def probe_owner(prefix: str) -> str | None:
    """The identity the probe of ``prefix`` holds (the engine that made it), if it holds one."""
    try:
        with open(probe_path(prefix), "rb") as probe:
            text = probe.read(200).decode(errors="replace").strip()
    except OSError:
        return None
    return text or None


def owner_gone(identity: str | None) -> bool:
    """Whether the process ``identity`` names (:func:`process_identity`) has certainly ended: it
    counts pids in this process's namespace, and that pid is gone, a zombie, or a later process.
    False whenever that cannot be known (no identity, another namespace): a live engine's segments
    are never removed on a guess."""
    parts = (identity or "").split()
    if len(parts) != 3 or not parts[0].isdigit():
        return False
    try:
        if os.readlink("/proc/self/ns/pid") != parts[2]:
            return False
    except OSError:
        return False
    return _start_time(int(parts[0])) != parts[1]


def sweep_if_owner_gone(prefix: str, owner: str | None) -> int:
    """Removes every file of ``prefix`` (:func:`sweep`) when its engine, ``owner`` (read from the
    probe when the caller started, :func:`probe_owner`), has ended without sweeping them (killed
    by SIGKILL): what a block's manager does last, once its workers have exited. Returns how many."""
    return sweep(prefix) if owner_gone(owner) else 0


def write(prefix: str, data: memoryview) -> str:
    """Creates a new segment of ``prefix`` holding ``data`` (a contiguous buffer); returns its name.

    Raises OSError when it cannot (no ``/dev/shm``, no space): callers then send the buffer inline.
    """
    name = f"{prefix}-{os.getpid()}-{secrets.token_hex(8)}"
    path = os.path.join(SHM_DIR, name)
    view = data.cast("B") if data.format != "B" or data.ndim != 1 else data
    total = len(view)
    spare = _take_spare(prefix, total)
    if spare is not None:
        fd, spare_name = spare
        try:
            os.rename(os.path.join(SHM_DIR, spare_name), path)  # (a fresh random name: never an existing one)
        except OSError:
            os.close(fd)
            _unlink_path(os.path.join(SHM_DIR, spare_name))
            spare = None
    if spare is None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        done = 0
        while done < total:
            done += os.pwrite(fd, view[done:], done)
        if spare is not None:
            os.ftruncate(fd, total)
    except BaseException:
        _unlink_path(path)
        raise
    finally:
        os.close(fd)
    return name


def _take_spare(prefix: str, size: int) -> tuple[int, str] | None:
    """A spare segment of ``prefix`` (the smallest holding ``size`` bytes, else the largest)."""
    start = prefix + "-"
    fitting = [entry for entry in _spares if entry[1].startswith(start)]
    if not fitting:
        return None
    big_enough = [entry for entry in fitting if entry[2] >= size]
    chosen = min(big_enough, key=lambda entry: entry[2]) if big_enough else max(fitting, key=lambda entry: entry[2])
    _spares.remove(chosen)
    return chosen[0], chosen[1]


def _keep_spare(fd: int, prefix: str, size: int) -> bool:
    """Keeps an open segment (renamed to a spare name of ``prefix``) for a later write; False
    (nothing renamed) when spares would exceed :data:`SPARE_BYTES`."""
    if size > SPARE_BYTES:
        return False
    while _spares and sum(entry[2] for entry in _spares) + size > SPARE_BYTES:
        old_fd, old_name, _ = _spares.pop(0)
        os.close(old_fd)
        _unlink_path(os.path.join(SHM_DIR, old_name))
    return True


def _run_prefix(name: str) -> str:
    """The run prefix of a segment name (``sprig-<engine pid>-<token>``)."""
    return "-".join(name.split("-")[:3])


def read(name: str, length: int, writable: bool, consume: bool) -> bytes | bytearray:
    """The ``length`` bytes of segment ``name``: a ``bytearray`` when ``writable``, else ``bytes``.
    With ``consume`` the segment is taken as soon as it is open: its name is gone at once (renamed
    to a spare of this process, or unlinked), before anything is read.

    Raises :class:`SegmentError` naming the segment when it is missing, of another size, or not a
    name Sprig makes."""
    if not valid_name(name):
        raise SegmentError(f"shared-memory segment name {name!r} is not one Sprig makes")
    path = os.path.join(SHM_DIR, name)
    try:
        fd = os.open(path, (os.O_RDWR if consume else os.O_RDONLY) | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise SegmentError(f"shared-memory segment {name} cannot be opened: {exc.strerror}"
                           + (" (removed before it was read?)" if exc.errno == errno.ENOENT else "")) from None
    kept = False
    try:
        size = os.fstat(fd).st_size
        if size != length:
            if consume:
                _unlink_path(path)
            raise SegmentError(f"shared-memory segment {name} holds {size} bytes, not the {length} announced")
        if consume:
            # Taken: the engine's name goes at once; the pages stay, as a spare for a later write.
            prefix = _run_prefix(name)
            if _keep_spare(fd, prefix, size):
                spare = f"{prefix}-{os.getpid()}-{secrets.token_hex(8)}"
                try:
                    os.rename(path, os.path.join(SHM_DIR, spare))
                    kept = True
                except OSError:
                    _unlink_path(path)
                if kept:
                    _spares.append((fd, spare, size))
            else:
                _unlink_path(path)
        if writable:
            buffer = bytearray(length)
            view = memoryview(buffer)
            done = 0
            while done < length:
                got = os.preadv(fd, [view[done:]], done)
                if got == 0:
                    raise SegmentError(f"shared-memory segment {name} ended after {done} of {length} bytes")
                done += got
            return buffer
        data = os.read(fd, length)
        if len(data) < length:  # (tmpfs answers in one read; a short one is finished piecewise)
            parts = [data]
            done = len(data)
            while done < length:
                part = os.pread(fd, length - done, done)
                if not part:
                    raise SegmentError(f"shared-memory segment {name} ended after {done} of {length} bytes")
                parts.append(part)
                done += len(part)
            data = b"".join(parts)
        return data
    finally:
        if not kept:
            os.close(fd)


def unlink(name: str) -> bool:
    """Removes segment ``name`` if it exists; returns whether it did."""
    return valid_name(name) and _unlink_path(os.path.join(SHM_DIR, name))


def sweep(prefix: str) -> int:
    """Removes every segment of ``prefix`` (``PREFIX-…``); returns how many."""
    if not valid_name(prefix):
        return 0
    try:
        names = os.listdir(SHM_DIR)
    except OSError:
        return 0
    start = prefix + "-"
    return sum(1 for name in names if name.startswith(start) and _unlink_path(os.path.join(SHM_DIR, name)))


def _unlink_path(path: str) -> bool:
    try:
        os.unlink(path)
    except OSError:
        return False
    return True
