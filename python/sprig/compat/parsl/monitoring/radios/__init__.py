"""Parsl's ``parsl.monitoring.radios``: radio configs, accepted and unused (see :mod:`sprig.radios`)."""
