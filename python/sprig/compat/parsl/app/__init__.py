"""Parsl's ``parsl.app``, served by Sprig."""
