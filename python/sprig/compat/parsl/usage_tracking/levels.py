"""Parsl's usage-tracking levels; ``Config(usage_tracking=...)`` accepts and ignores them (Sprig
sends nothing)."""

DISABLED = 0
LEVEL_1 = 1
LEVEL_2 = 2
LEVEL_3 = 3

__all__ = ["DISABLED", "LEVEL_1", "LEVEL_2", "LEVEL_3"]
