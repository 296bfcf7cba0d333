"""Parsl's ``parsl.dataflow.dflow``: the kernel and its loader, served by Sprig (see :mod:`sprig.api`)."""

from __future__ import annotations

from sprig import api, errors
from sprig.api import DataFlowKernel


class _LoaderType(type):
    """Gives :class:`DataFlowKernelLoader` Parsl's class attribute ``_dfk``, read-only here."""

    @property
    def _dfk(cls) -> DataFlowKernel | None:
        """The loaded :class:`DataFlowKernel`, or None when no config is loaded."""
        try:
            return api.dfk()
        except (errors.NoConfigLoadedError, errors.EngineNotAvailableError):
            return None


class DataFlowKernelLoader(metaclass=_LoaderType):
    """Parsl's class-method interface to the loaded kernel (``parsl.load`` and friends); ``_dfk``
    is the loaded kernel or None."""

    load = staticmethod(api.load)
    clear = staticmethod(api.clear)
    dfk = staticmethod(api.dfk)
    wait_for_current_tasks = staticmethod(api.wait_for_current_tasks)


__all__ = ["DataFlowKernel", "DataFlowKernelLoader"]
