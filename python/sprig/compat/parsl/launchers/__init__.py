"""Parsl's launchers, served by Sprig: only ``SingleNodeLauncher`` (one manager per block)."""

from sprig.config import SingleNodeLauncher

__all__ = ["SingleNodeLauncher"]
