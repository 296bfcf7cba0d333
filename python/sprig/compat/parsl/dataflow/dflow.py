"""Parsl's ``parsl.dataflow.dflow``: the kernel and its loader, served by Sprig (see :mod:`sprig.api`)."""

from __future__ import annotations

from sprig import api
from sprig.api import DataFlowKernel


class DataFlowKernelLoader:
    """Parsl's class-method interface to the loaded kernel (``parsl.load`` and friends)."""

    load = staticmethod(api.load)
    clear = staticmethod(api.clear)
    dfk = staticmethod(api.dfk)
    wait_for_current_tasks = staticmethod(api.wait_for_current_tasks)


__all__ = ["DataFlowKernel", "DataFlowKernelLoader"]
