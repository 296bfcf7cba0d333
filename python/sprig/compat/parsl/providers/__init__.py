"""Parsl's providers, served by Sprig (see :mod:`sprig.config`).

Only ``LocalProvider`` for now; ``AdHocProvider`` (blocks on other hosts over ssh) comes next.
"""

from sprig.config import ExecutionProvider, LocalProvider

# Next: from sprig.config import AdHocProvider

__all__ = ["ExecutionProvider", "LocalProvider"]
