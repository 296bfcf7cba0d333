"""Parsl's ``parsl.providers.slurm``."""
from sprig.config import SlurmProvider

__all__ = ["SlurmProvider"]
