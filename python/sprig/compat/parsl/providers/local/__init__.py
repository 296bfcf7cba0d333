"""Parsl's ``parsl.providers.local``, served by Sprig."""
