"""Parsl's ``parsl.providers.slurm.slurm``."""
from sprig.config import SlurmProvider

__all__ = ["SlurmProvider"]
