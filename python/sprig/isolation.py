"""How manager and worker processes keep the protocol streams private and follow their parent."""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger("sprig.isolation")


def isolate_stdio() -> tuple[int, int]:
    """Keeps private duplicates of fds 0 and 1 for the protocol; points fd 0 at /dev/null and
    fd 1 at fd 2, so user code can neither read the protocol nor corrupt it with ``print``."""
    fd_in = os.dup(0)
    fd_out = os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    return fd_in, fd_out


def die_with_parent(number: int = 9) -> None:
    """Asks Linux to send signal ``number`` (default SIGKILL) to this process when its parent
    dies (PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, number) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    except (OSError, AttributeError) as exc:
        log.warning("cannot set PR_SET_PDEATHSIG: %s", exc)
