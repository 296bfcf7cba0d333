"""Parsl's channels, served by Sprig (see :mod:`sprig.config`): ``LocalChannel``, and
``SSHChannel`` (the system OpenSSH client), which Parsl itself has removed."""

from sprig.config import Channel, LocalChannel, SSHChannel

__all__ = ["Channel", "LocalChannel", "SSHChannel"]
