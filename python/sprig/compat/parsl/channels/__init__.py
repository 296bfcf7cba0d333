"""Parsl's channels, served by Sprig (see :mod:`sprig.config`).

Only ``LocalChannel`` for now; ``SSHChannel`` (for ``AdHocProvider``) comes next.
"""

from sprig.config import Channel, LocalChannel

# Next: from sprig.config import SSHChannel

__all__ = ["Channel", "LocalChannel"]
