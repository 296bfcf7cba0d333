"""A worker's resource samples for the try it runs (PROTOCOL.md, "RESOURCE"): what Parsl's
resource monitor records (``parsl/monitoring/remote.py``, through psutil), read from /proc with
the standard library, so that workers stay zero-install.

A sample holds the columns of Parsl's ``resource`` table, with their meanings, packed as
``sprig.wire.RESOURCE_FORMAT`` (:func:`encode`, :func:`decode`):

* ``psutil_process_pid``: the worker's pid.
* ``psutil_process_time_user``, ``psutil_process_time_system``: CPU seconds of the worker since
  it started, plus those of its descendants during this try — the ones still alive and the ones
  it has reaped since the try began (a bash app's command, however short, is counted).
* ``psutil_process_memory_resident``, ``psutil_process_memory_virtual`` (bytes),
  ``psutil_process_memory_percent`` (resident, of the host's ``MemTotal``),
  ``psutil_process_num_threads``, ``psutil_process_disk_read``, ``psutil_process_disk_write``
  (bytes read and written, ``rchar``/``wchar`` of /proc/PID/io as psutil's ``read_chars``):
  the worker's, plus those of its live descendants when the sample includes them.
* ``psutil_process_children_count``: its live descendants (0 when the sample does not look).
* ``psutil_process_status``: psutil's name of the worker's state (``running``, ``sleeping``, …).
* ``psutil_cpu_num``: the CPU the worker last ran on.
* ``psutil_process_num_ctx_switches_voluntary``, ``…_involuntary``: the worker's (all its
  threads, ``getrusage``), plus its live descendants'.
* ``timestamp``: when, in seconds since the Unix epoch (the worker's clock).

The worker's own files are kept open and re-read with ``pread``: a sample of the worker alone
reads two small files, calls ``getrusage`` and packs a struct, some 10 µs. Descendants are looked
for only in the samples taken while a try runs (:meth:`Sampler.sample` with
``descendants=True``), which read /proc for each of them.
"""

from __future__ import annotations

import os
import resource
import struct
import time

from sprig import process_tree
from sprig.wire import RESOURCE_FIELDS, RESOURCE_FORMAT

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

#: psutil's names for the state letters of /proc/PID/stat.
STATUS_NAMES = {
    "R": "running",
    "S": "sleeping",
    "D": "disk-sleep",
    "T": "stopped",
    "t": "tracing-stop",
    "Z": "zombie",
    "X": "dead",
    "x": "dead",
    "K": "wake-kill",
    "W": "waking",
    "I": "idle",
    "P": "parked",
}

_PACKED = struct.Struct(RESOURCE_FORMAT)

# Indexes in process_tree.stat_fields (field N of proc(5) is at N - 3).
_STATE, _UTIME, _STIME, _CUTIME, _CSTIME, _THREADS, _VSIZE, _RSS, _CPU = 0, 11, 12, 13, 14, 17, 20, 21, 36


class Sampler:
    """Samples this process (a worker), with its descendants when asked, for the try it runs.

    Threads: :meth:`sample` may run on the worker's main thread and on its watch thread at once;
    :meth:`end_of_try` runs on the main thread only.
    """

    def __init__(self, interval: float) -> None:
        #: Seconds between the samples taken while a try runs.
        self.interval = interval
        self.pid = os.getpid()
        self._stat = os.open(f"/proc/{self.pid}/stat", os.O_RDONLY | os.O_CLOEXEC)
        self._io = _open_or_none(f"/proc/{self.pid}/io")
        self.memory_total = _memory_total()
        fields = self._own_stat()
        # CPU ticks of the descendants reaped before this try (in this process's cutime/cstime).
        self._reaped_before = (int(fields[_CUTIME]), int(fields[_CSTIME]))

    def sample(self, descendants: bool) -> bytes:
        """One sample (RESOURCE data) of this process, and of its live descendants if asked."""
        return self._take(descendants)[0]

    def end_of_try(self) -> bytes:
        """The sample that ends a try (without looking for descendants: its commands have ended
        and been reaped, so their CPU time is in this process's); the next try counts the
        descendants reaped from here on."""
        data, self._reaped_before = self._take(False)
        return data

    def _take(self, descendants: bool) -> tuple[bytes, tuple[int, int]]:
        """A sample, and this process's cutime and cstime at that moment."""
        now = time.time()
        fields = self._own_stat()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        before_user, before_system = self._reaped_before
        reaped = (int(fields[_CUTIME]), int(fields[_CSTIME]))
        user = int(fields[_UTIME]) + reaped[0] - before_user
        system = int(fields[_STIME]) + reaped[1] - before_system
        resident = int(fields[_RSS]) * PAGE
        virtual = int(fields[_VSIZE])
        threads = int(fields[_THREADS])
        read, written = _io_chars(self._io)
        voluntary, involuntary = usage.ru_nvcsw, usage.ru_nivcsw
        children = 0
        if descendants:
            for pid in process_tree.descendants_of(self.pid):
                child = process_tree.stat_fields(pid)
                if child is None or len(child) <= _CPU or child[_STATE] in ("X", "x"):
                    continue  # gone meanwhile
                children += 1
                user += int(child[_UTIME]) + int(child[_CUTIME])
                system += int(child[_STIME]) + int(child[_CSTIME])
                resident += int(child[_RSS]) * PAGE
                virtual += int(child[_VSIZE])
                threads += int(child[_THREADS])
                child_read, child_written = _io_chars_of(pid)
                read += child_read
                written += child_written
                child_voluntary, child_involuntary = _switches_of(pid)
                voluntary += child_voluntary
                involuntary += child_involuntary
        state = fields[_STATE].decode("ascii")
        percent = 100.0 * resident / self.memory_total if self.memory_total else 0.0
        data = encode(now, user / TICKS, system / TICKS, percent, resident, virtual, read, written, voluntary,
                      involuntary, self.pid, threads, children, int(fields[_CPU]), STATUS_NAMES.get(state, state))
        return data, reaped

    def _own_stat(self) -> list[bytes]:
        text = os.pread(self._stat, 4096, 0)
        return text[text.rfind(b")") + 2 :].split(None, _CPU + 1)  # (nothing past the CPU number is read)


def encode(*values: float | int | str) -> bytes:
    """RESOURCE data: the fields of ``sprig.wire.RESOURCE_FIELDS`` in order, then the status name."""
    status = str(values[-1]).encode("utf-8")[:255]
    return _PACKED.pack(*values[:-1], len(status)) + status


def decode(data: bytes | memoryview) -> dict[str, float | int | str]:
    """A sample as a dict keyed by Parsl's column names (what :func:`encode` packed)."""
    values = _PACKED.unpack_from(data, 0)
    sample: dict[str, float | int | str] = dict(zip(RESOURCE_FIELDS, values))
    end = _PACKED.size + values[-1]
    sample["psutil_process_status"] = bytes(data[_PACKED.size : end]).decode("utf-8")
    return sample


def _open_or_none(path: str) -> int | None:
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


def _memory_total() -> int:
    """The host's memory in bytes (``MemTotal`` of /proc/meminfo), 0 when unknown."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _io_chars(fd: int | None) -> tuple[int, int]:
    """(rchar, wchar) from an open /proc/PID/io; zeros when it cannot be read (as Parsl does)."""
    if fd is None:
        return 0, 0
    try:
        return _parse_io(os.pread(fd, 4096, 0))
    except (OSError, ValueError):
        return 0, 0


def _io_chars_of(pid: int) -> tuple[int, int]:
    try:
        with open(f"/proc/{pid}/io") as handle:
            return _parse_io(handle.read())
    except (OSError, ValueError):
        return 0, 0


def _parse_io(text: str | bytes) -> tuple[int, int]:
    """(rchar, wchar) of /proc/PID/io, whose first two lines they are."""
    words = text.split(None, 4)
    if len(words) < 4 or words[0] not in ("rchar:", b"rchar:") or words[2] not in ("wchar:", b"wchar:"):
        raise ValueError("not /proc/PID/io")
    return int(words[1]), int(words[3])


def _switches_of(pid: int) -> tuple[int, int]:
    """(voluntary, involuntary) context switches of a process, from /proc/PID/status."""
    voluntary = involuntary = 0
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("voluntary_ctxt_switches:"):
                    voluntary = int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches:"):
                    involuntary = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return voluntary, involuntary
