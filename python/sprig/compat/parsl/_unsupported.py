"""Parsl names that Sprig does not provide, each with the one line a script sees when it imports one.

Everything unsupported is listed once, in :data:`UNSUPPORTED` (the full dotted name → the line).
Two small hooks give the line instead of a bare ``ModuleNotFoundError`` or ``cannot import name``:

- a *module* in the table (``import parsl.executors.taskvine``, ``from parsl.data_provider.http import
  ...``) is caught by :class:`UnsupportedModuleFinder`, which :func:`install` appends to
  ``sys.meta_path``. Being last, it is asked only after the normal search found nothing, and only
  while ``sys.modules['parsl']`` is this compatibility package: it never hides a real module.
- a *name* in the table inside an existing package (``from parsl.providers import SlurmProvider``)
  is raised by that package's ``__getattr__``, which calls :func:`attribute_error`.

Both raise :class:`ImportError` with ``name`` set to the dotted name.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any, Sequence

_LOCAL = "use HighThroughputExecutor with LocalProvider, or AdHocProvider for a list of ssh hosts"

#: Groups of dotted names and the reason shared by the group; :data:`UNSUPPORTED` is built from it.
_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("is not provided by Sprig (no Work Queue executor); " + _LOCAL,
     ("parsl.executors.WorkQueueExecutor", "parsl.executors.workqueue", "parsl.WorkQueueExecutor")),
    ("is not provided by Sprig (no TaskVine executor); " + _LOCAL,
     ("parsl.executors.TaskVineExecutor", "parsl.executors.taskvine")),
    ("is not provided by Sprig (no Flux executor); " + _LOCAL,
     ("parsl.executors.FluxExecutor", "parsl.executors.flux")),
    ("is not supported by Sprig yet (MPI apps: a later release); " + _LOCAL,
     ("parsl.executors.MPIExecutor", "parsl.executors.high_throughput.mpi_executor")),
    ("is not provided by Sprig (no RADICAL-Pilot executor); " + _LOCAL,
     ("parsl.executors.RadicalPilotExecutor", "parsl.executors.radical", "parsl.RadicalPilotExecutor")),
    ("is not provided by Sprig (no Globus Compute executor); " + _LOCAL,
     ("parsl.executors.GlobusComputeExecutor", "parsl.executors.globus_compute")),
    ("is not provided by Sprig (batch schedulers other than Slurm are not planned); "
     "use SlurmProvider, LocalProvider, or AdHocProvider for a list of ssh hosts",
     ("parsl.providers.PBSProProvider", "parsl.providers.pbspro",
      "parsl.providers.TorqueProvider", "parsl.providers.torque",
      "parsl.providers.CondorProvider", "parsl.providers.condor",
      "parsl.providers.LSFProvider", "parsl.providers.lsf",
      "parsl.providers.GridEngineProvider", "parsl.providers.grid_engine")),
    ("is not provided by Sprig (no cloud or Kubernetes providers); "
     "use LocalProvider, or AdHocProvider for a list of ssh hosts",
     ("parsl.providers.KubernetesProvider", "parsl.providers.kubernetes",
      "parsl.providers.AWSProvider", "parsl.providers.aws",
      "parsl.providers.GoogleCloudProvider", "parsl.providers.googlecloud",
      "parsl.providers.AzureProvider", "parsl.providers.azure")),
    ("is not provided by Sprig (its engine scales and supervises blocks itself: no pluggable strategy, "
     "block error handler or status poller); parsl.jobs.states is provided",
     ("parsl.jobs.strategy", "parsl.jobs.error_handlers", "parsl.jobs.job_status_poller", "parsl.jobs.errors")),
    ("is not provided by Sprig: its engine records results itself (Config(memoizer=BasicMemoizer(...)) "
     "sets how); id_for_memo, Memoizer and BasicMemoizer are provided",
     ("parsl.dataflow.memoization.CheckpointCommand",)),
    ("is not supported by Sprig (no data staging: apps use local paths directly; a File of another "
     "scheme is a value only)",
     ("parsl.data_provider.http", "parsl.data_provider.ftp", "parsl.data_provider.globus",
      "parsl.data_provider.rsync", "parsl.data_provider.zip", "parsl.data_provider.file_noop",
      "parsl.data_provider.staging", "parsl.data_provider.data_manager")),
)

#: Every unsupported dotted name (module or attribute) → the one line its import raises.
UNSUPPORTED: dict[str, str] = {name: f"{name} {reason}" for reason, names in _GROUPS for name in names}


def unsupported_error(name: str) -> ImportError | None:
    """The :class:`ImportError` for the dotted ``name`` if it is in the table, else None."""
    line = UNSUPPORTED.get(name)
    return None if line is None else ImportError(line, name=name)


def attribute_error(module: str, attribute: str) -> Exception:
    """What a compat package's ``__getattr__`` raises for ``attribute``: the table's
    :class:`ImportError` when ``module.attribute`` is unsupported, else the usual
    :class:`AttributeError` (so ``hasattr`` and ``getattr(..., default)`` keep working)."""
    error = unsupported_error(f"{module}.{attribute}")
    if error is not None:
        return error
    return AttributeError(f"module {module!r} has no attribute {attribute!r} (Sprig's Parsl-compatible package)")


class _RaisingLoader:
    """Loads nothing: creating the module raises the table's line."""

    def __init__(self, error: ImportError) -> None:
        self.error = error

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        raise self.error

    def exec_module(self, module: ModuleType) -> None:  # never reached: create_module raised
        raise self.error


class UnsupportedModuleFinder:
    """A ``sys.meta_path`` finder for the table's module names (see the module docstring)."""

    sprig_compat_unsupported = True  # how install() recognises an earlier copy

    @staticmethod
    def find_spec(fullname: str, path: Sequence[str] | None = None, target: Any = None) -> ModuleSpec | None:
        if not fullname.startswith("parsl.") or not getattr(sys.modules.get("parsl"), "__sprig_compat__", False):
            return None
        error = unsupported_error(fullname)
        if error is None:
            return None
        from importlib.machinery import ModuleSpec

        return ModuleSpec(fullname, _RaisingLoader(error))


def install() -> None:
    """Appends :class:`UnsupportedModuleFinder` to ``sys.meta_path`` (replacing a copy left by an
    earlier import of this package, so re-importing ``parsl`` never stacks finders)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "sprig_compat_unsupported", False)]
    sys.meta_path.append(UnsupportedModuleFinder)


__all__ = ["UNSUPPORTED", "UnsupportedModuleFinder", "attribute_error", "install", "unsupported_error"]
