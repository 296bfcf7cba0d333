"""How `sprig run` runs a workflow script: as `__main__`, with Python's own exit semantics."""

from __future__ import annotations

import os
import sys
import threading
from typing import Any, TextIO


def run_script(path: str, argv: list[str]) -> int:
    """Runs the script as ``__main__`` with ``sys.argv = [path, *argv]`` and its folder first on
    ``sys.path``; returns the exit status: 0, the ``SystemExit`` code, or 1 after printing an
    uncaught exception's traceback as Python would (without this runner's frames)."""
    import runpy

    sys.argv = [path, *argv]
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as stop:
        return _exit_status(stop.code)
    except BaseException as error:  # the script's own failure: report it, do not crash the host
        _print_uncaught(error, os.path.abspath(path))
        return 1
    return 0


def _exit_status(code: Any) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _print_uncaught(error: BaseException, script: str) -> None:
    import traceback

    tb = error.__traceback__
    # Drop the frames of this runner and of runpy, down to the script's own first frame.
    probe = tb
    while probe is not None and os.path.abspath(probe.tb_frame.f_code.co_filename) != script:
        probe = probe.tb_next
    if probe is not None:
        tb = probe
    elif isinstance(error, SyntaxError):
        tb = None
    traceback.print_exception(type(error), error, tb, file=sys.stderr)
    sys.stderr.flush()


class ProgressLine:
    """One live status line at the bottom of a terminal that the script's own output never
    tears: every write to stdout/stderr first clears the line, and the next draw puts it back."""

    def __init__(self, terminal: TextIO) -> None:
        self._terminal = terminal
        self._lock = threading.Lock()
        self._shown = ""
        self._stdout = sys.stdout
        self._stderr = sys.stderr
        sys.stdout = _Guarded(self._stdout, self)
        sys.stderr = _Guarded(self._stderr, self)

    def draw(self, text: str) -> None:
        with self._lock:
            self._terminal.write("\r\033[K" + text)
            self._terminal.flush()
            self._shown = text

    def clear_locked(self) -> None:
        if self._shown:
            self._terminal.write("\r\033[K")
            self._terminal.flush()
            self._shown = ""

    def finish(self, summary: str | None) -> None:
        with self._lock:
            self.clear_locked()
            sys.stdout, sys.stderr = self._stdout, self._stderr
            if summary:
                self._terminal.write(summary + "\n")
                self._terminal.flush()


class _Guarded:
    """A text stream whose writes clear the progress line first."""

    def __init__(self, stream: TextIO, line: ProgressLine) -> None:
        self._stream = stream
        self._line = line

    def write(self, text: str) -> int:
        with self._line._lock:
            self._line.clear_locked()
            written = self._stream.write(text)
            self._stream.flush()
            return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
