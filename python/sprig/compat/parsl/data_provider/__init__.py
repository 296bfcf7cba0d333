"""Parsl's ``parsl.data_provider``, served by Sprig."""
