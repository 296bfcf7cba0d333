"""Parsl's ``parsl.monitoring.radios.udp``: ``UDPRadio`` (see :mod:`sprig.radios`: accepted; Sprig's workers
report through their block's own stream)."""

from sprig.radios import UDPRadio

__all__ = ["UDPRadio"]
