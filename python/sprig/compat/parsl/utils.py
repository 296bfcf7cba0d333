"""Parsl's ``parsl.utils``: the helpers scripts and configs import, served by Sprig.

Working: :func:`get_version`, :class:`RepresentationMixin`, :func:`get_std_fname_mode`,
:func:`wait_for_file`, :func:`time_limited_open`, :func:`wtime_to_minutes`,
:class:`AtomicIDCounter`, :class:`Timer`, :class:`AutoCancelTimer`, :func:`execute_wait`,
:func:`sanitize_dns_label_rfc1123`, :func:`sanitize_dns_subdomain_rfc1123`.

Checkpoints: :func:`get_all_checkpoints` and :func:`get_last_checkpoint` return the
``<run>/checkpoint`` folders of earlier runs, as Parsl's do (what ``checkpoint_files=`` takes).
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

from sprig.errors import BadStdStreamFile

from parsl.version import VERSION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import IO, Any

def get_version() -> str:
    """The version of this package: Sprig's version with ``+sprig`` appended (``parsl.__version__``)."""
    return VERSION


def get_all_checkpoints(rundir: str = "runinfo") -> list[str]:
    """The absolute ``checkpoint`` folders of every run in ``rundir`` that has one, in Parsl's
    order (the run folders' names sorted as text); ``[]`` when ``rundir`` is not a folder."""
    if not os.path.isdir(rundir):
        return []
    found = []
    for run in sorted(os.listdir(rundir)):
        folder = os.path.abspath(os.path.join(rundir, run, "checkpoint"))
        if os.path.isdir(folder):
            found.append(folder)
    return found


def get_last_checkpoint(rundir: str = "runinfo") -> list[str]:
    """The ``checkpoint`` folder of the highest-numbered run that has one, as a one-item list
    (``[]`` when none has, or ``rundir`` is not a folder); numbers compare as numbers, so run
    ``1000`` comes after ``999``. Checkpoints are per run: this one holds what that run wrote."""
    if not os.path.isdir(rundir):
        return []
    for run in sorted((name for name in os.listdir(rundir) if name.isdigit()), key=int, reverse=True):
        folder = os.path.abspath(os.path.join(rundir, run, "checkpoint"))
        if os.path.isdir(folder):
            return [folder]
    return []


# MARK: standard streams and files


def get_std_fname_mode(fdname: str, stdfspec: str | os.PathLike | tuple[Any, str]) -> tuple[str, str]:
    """The file name and open mode of a ``stdout``/``stderr`` target, as bash apps take it: a path
    (opened for appending, ``'a+'``) or a ``(path, mode)`` pair. ``fdname`` names the stream in
    errors; anything else raises :class:`~sprig.errors.BadStdStreamFile`."""
    if isinstance(stdfspec, (str, os.PathLike)):
        target, mode = stdfspec, "a+"
    elif isinstance(stdfspec, tuple) and len(stdfspec) == 2:
        target, mode = stdfspec
    else:
        raise BadStdStreamFile(f"{fdname} must be a path or a (path, mode) pair, not {stdfspec!r}")
    try:
        path = os.fspath(target)
    except TypeError:
        raise BadStdStreamFile(f"{fdname}: {target!r} is not a path") from None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(mode, str):
        raise BadStdStreamFile(f"{fdname}: the mode must be a str such as 'w' or 'a', not {mode!r}")
    return path, mode


@contextmanager
def wait_for_file(path: str, seconds: float = 10) -> Iterator[None]:
    """Waits until ``path`` exists or ``seconds`` have passed (checking every 10 ms), then runs the
    ``with`` body either way."""
    import time

    deadline = time.monotonic() + max(0.0, seconds)
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(min(0.01, max(0.0, deadline - time.monotonic())))
    yield


@contextmanager
def time_limited_open(path: str, mode: str, seconds: float = 1) -> Iterator[IO[Any]]:
    """Opens ``path`` once it exists (waiting at most ``seconds``, see :func:`wait_for_file`) and
    closes it after the ``with`` body; a file still missing raises :class:`FileNotFoundError`."""
    with wait_for_file(path, seconds):
        pass
    with open(path, mode) as handle:
        yield handle


def wtime_to_minutes(time_string: str) -> int:
    """Whole minutes in a walltime written ``HH:MM:SS`` (the seconds are dropped); logs a warning
    when that is less than one minute."""
    hours, minutes, _seconds = time_string.split(":")
    total = int(hours) * 60 + int(minutes)
    if total < 1:
        import logging

        logging.getLogger(__name__).warning("walltime %r is %d minutes, less than 1", time_string, total)
    return total


# MARK: objects


class _Unrecorded:
    def __repr__(self) -> str:
        return "<unrecorded>"


_UNRECORDED = _Unrecorded()


class RepresentationMixin:
    """Gives a class a ``repr`` that reads like the call that made it: ``Name(a, b=2)``.

    The values are the instance's attributes named after the ``__init__`` parameters (parameters
    without a default first, by position; the others as keywords, in signature order); one the
    instance lacks shows ``<unrecorded>``, or raises :class:`AttributeError` when the class sets
    ``_validate_repr = True``. A repr longer than ``__max_width__`` (80) puts one argument on each
    line. ``__init__`` wrapped by a decorator that sets ``__wrapped__`` is seen through.
    """

    __max_width__ = 80
    _validate_repr = False

    def __repr__(self) -> str:
        positional, keywords = self._constructor_arguments()
        name = type(self).__name__
        parts = [repr(value) for value in positional] + [f"{key}={value!r}" for key, value in keywords]
        line = f"{name}({', '.join(parts)})"
        if len(line) <= type(self).__max_width__ or not parts:
            return line
        body = "".join(f"\n    {part.replace(chr(10), chr(10) + '    ')}," for part in parts)
        return f"{name}({body}\n)"

    def _constructor_arguments(self) -> tuple[list[Any], list[tuple[str, Any]]]:
        import inspect

        try:
            signature = inspect.signature(type(self).__init__)
        except (TypeError, ValueError):
            return [], []
        positional: list[Any] = []
        keywords: list[tuple[str, Any]] = []
        for parameter in list(signature.parameters.values())[1:]:
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            if not hasattr(self, parameter.name) and self._validate_repr:
                raise AttributeError(f"{type(self).__name__} takes {parameter.name!r} in its constructor "
                                     "but has no attribute of that name")
            value = getattr(self, parameter.name, _UNRECORDED)
            if parameter.kind is parameter.KEYWORD_ONLY or parameter.default is not parameter.empty:
                keywords.append((parameter.name, value))
            else:
                positional.append(value)
        return positional, keywords


class AtomicIDCounter:
    """Hands out 0, 1, 2, ... to any number of threads, each number once."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def get_id(self) -> int:
        """The next number."""
        with self.lock:
            value = self.count
            self.count += 1
        return value


class Timer:
    """Calls ``callback(*args)`` at once and then every ``interval`` seconds, on a daemon thread
    started here (Parsl's contract), until :meth:`close`. An exception from the callback is logged
    and the timer goes on."""

    def __init__(self, callback: Callable[..., Any], *args: Any, interval: float = 5, name: str | None = None) -> None:
        self.interval = max(0, interval)
        self.cb_args = args
        self.callback = callback
        self._stop = threading.Event()
        thread_name = f"Timer-Thread-{id(self)}"
        self._thread = threading.Thread(target=self._run, name=f"{name}-{thread_name}" if name else thread_name,
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.make_callback()
        while not self._stop.wait(self.interval):
            self.make_callback()

    def make_callback(self) -> None:
        """Calls the callback once, logging (not raising) its exception."""
        try:
            self.callback(*self.cb_args)
        except Exception:
            import logging

            logging.getLogger(__name__).exception("Timer callback %r raised; the timer goes on", self.callback)

    def close(self, timeout: float | None = None) -> None:
        """Stops the timer and waits (at most ``timeout`` seconds) for its thread to end."""
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=timeout)


class AutoCancelTimer(threading.Timer):
    """A :class:`threading.Timer` used as ``with AutoCancelTimer(delay, fn): ...``: started on
    entry, cancelled on exit (so ``fn`` runs only if the body takes longer than ``delay``)."""

    def __enter__(self) -> AutoCancelTimer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cancel()


# MARK: commands and names


def execute_wait(cmd: str, walltime: float | None = None) -> tuple[int, str, str]:
    """Runs the shell command line ``cmd`` (``/bin/sh -c``, in its own process group) and returns
    ``(exit code, stdout, stderr)``. Past ``walltime`` seconds the whole group is killed and
    :class:`subprocess.TimeoutExpired` raised."""
    import signal
    import subprocess

    process = subprocess.Popen(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=walltime)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.communicate()
        raise
    return process.returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")


def sanitize_dns_label_rfc1123(raw_string: str) -> str:
    """``raw_string`` as a DNS label (RFC 1123): lower case, runs of other characters as one ``-``,
    at most 63 characters, no ``-`` at either end; :class:`ValueError` if nothing is left."""
    import re

    label = re.sub(r"[^a-z0-9]+", "-", raw_string.lower())[:63].strip("-")
    if not label:
        raise ValueError(f"{raw_string!r} has no characters left for a DNS label")
    return label


def sanitize_dns_subdomain_rfc1123(raw_string: str) -> str:
    """``raw_string`` as a DNS subdomain (RFC 1123): each dot-separated part as a label (empty parts
    dropped), at most 253 characters, no ``.`` or ``-`` at either end; :class:`ValueError` if
    nothing is left."""
    labels = [sanitize_dns_label_rfc1123(part) for part in raw_string.split(".") if part]
    name = ".".join(labels)[:253].strip(".-")
    if not name:
        raise ValueError(f"{raw_string!r} has no characters left for a DNS subdomain")
    return name


__all__ = ["get_version", "get_all_checkpoints", "get_last_checkpoint", "get_std_fname_mode", "wait_for_file",
           "time_limited_open", "wtime_to_minutes", "RepresentationMixin", "AtomicIDCounter", "Timer",
           "AutoCancelTimer", "execute_wait", "sanitize_dns_label_rfc1123", "sanitize_dns_subdomain_rfc1123"]
