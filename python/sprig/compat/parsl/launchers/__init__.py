"""Parsl's launchers, served by Sprig (see :mod:`parsl.launchers.launchers`).

``LocalProvider`` takes ``launcher=``: :class:`SingleNodeLauncher` there is what Sprig does with a
local block; the batch-scheduler launchers are complete values whose ``__call__`` gives the
script text they stand for, for schedulers Sprig does not drive yet.
"""

from parsl.launchers.base import Launcher
from parsl.launchers.launchers import (
    AprunLauncher,
    GnuParallelLauncher,
    JsrunLauncher,
    MpiExecLauncher,
    MpiRunLauncher,
    SimpleLauncher,
    SingleNodeLauncher,
    SrunLauncher,
    SrunMPILauncher,
    WrappedLauncher,
)

__all__ = ["Launcher", "SimpleLauncher", "WrappedLauncher", "SingleNodeLauncher", "SrunLauncher",
           "SrunMPILauncher", "AprunLauncher", "JsrunLauncher", "GnuParallelLauncher", "MpiExecLauncher",
           "MpiRunLauncher"]
