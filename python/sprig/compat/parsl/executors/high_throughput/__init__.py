"""Parsl's ``parsl.executors.high_throughput``, served by Sprig."""
