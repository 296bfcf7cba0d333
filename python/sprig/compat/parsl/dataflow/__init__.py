"""Parsl's ``parsl.dataflow``, served by Sprig."""
