"""Parsl's ``parsl.monitoring.radios.htex``: ``HTEXRadio`` (see :mod:`sprig.radios`: accepted; Sprig's workers
report through their block's own stream)."""

from sprig.radios import HTEXRadio

__all__ = ["HTEXRadio"]
