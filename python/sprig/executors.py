"""Executors: what runs apps (Parsl's ``ThreadPoolExecutor`` and ``HighThroughputExecutor``).

Like every config object these only describe (see :mod:`sprig.config`); ``to_spec()`` gives the
dict the engine loads. ``Executor.submit`` runs a function on a loaded executor.
"""

from __future__ import annotations

import os

from sprig import affinity, radios
from sprig.config_checks import (
    _check_bool, _check_int, _check_number, _check_str, _Described, _equals, _is_none,
    _take_parsl_options,
)
from sprig.errors import ConfigurationError, InvalidResourceSpecification
from sprig.executor_status import BlockStatusQueries
from sprig.providers import ExecutionProvider, LocalProvider
from sprig.python_providers import is_python_defined
from sprig.python_providers import spec as python_provider_spec

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any


# MARK: executors


class Executor(_Described):
    """Runs apps (Parsl's executors). Each executor in a config has a unique ``label``; apps pick
    executors by label (``@python_app(executors=["label"])``)."""

    label: str
    #: The names a task's ``parsl_resource_specification`` may hold on this executor.
    RESOURCE_KEYS: frozenset[str] = frozenset()

    def to_spec(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} has no spec")

    def validate_resource_spec(self, resource_specification: dict[str, Any]) -> None:
        """Raises :class:`~sprig.errors.InvalidResourceSpecification` naming the keys of
        ``resource_specification`` that this executor does not take (Parsl's check)."""
        invalid = set(resource_specification or {}) - self.RESOURCE_KEYS
        if invalid:
            allowed = ", ".join(sorted(self.RESOURCE_KEYS)) or "none"
            raise InvalidResourceSpecification(invalid, f"{type(self).__name__} {self.label!r} takes these "
                                                        f"resources only: {allowed}")

    def submit(self, func: Callable[..., Any], resource_specification: dict[str, Any], *args: Any,
               **kwargs: Any) -> Any:
        """Runs ``func(*args, **kwargs)`` as a Python app on this executor (Parsl's executor-level
        ``submit``) and returns its future. The resource specification is checked first
        (:meth:`validate_resource_spec`); then a config holding this executor must be loaded
        (:class:`~sprig.errors.NoConfigLoadedError` otherwise)."""
        self.validate_resource_spec(resource_specification)
        from sprig import api

        return api.submit_to(self, func, args, kwargs)


class BlockProviderExecutor(Executor):
    """An executor whose workers run in blocks that a provider starts (Parsl's
    ``parsl.executors.status_handling.BlockProviderExecutor``): :class:`HighThroughputExecutor`."""


def _radio(owner: str, parsl_options: dict[str, Any], default: type) -> Any:
    """The ``remote_monitoring_radio`` given (a radio config or None), else ``default()``."""
    radio = parsl_options.get("remote_monitoring_radio")
    if radio is None:
        return default()
    if not isinstance(radio, radios.RadioConfig):
        raise TypeError(f"{owner}: remote_monitoring_radio must be a radio config (parsl.monitoring.radios), "
                        f"not {type(radio).__name__}")
    return radio


def _default_threads() -> int:
    return min(32, (os.cpu_count() or 1) + 4)


class ThreadPoolExecutor(Executor):
    """Runs apps on threads of the Sprig process (Parsl's ``ThreadPoolExecutor``).

    Python apps overlap while they wait (sleep, I/O, C code that releases the GIL); CPU-bound
    Python belongs on :class:`HighThroughputExecutor`. ``max_threads=None`` means
    ``min(32, cores + 4)``, as for :class:`concurrent.futures.ThreadPoolExecutor`.

    Parsl options accepted and ignored: ``thread_name_prefix``, ``managed``,
    ``remote_monitoring_radio`` (kept as that attribute, default ``MultiprocessingQueueRadio()``
    as in Parsl; the threads report to the engine directly, see :mod:`sprig.radios`);
    ``storage_access`` and ``working_dir`` warn when set.
    """

    _repr_fields = ("label", "max_threads")
    PARSL_OPTIONS: dict[str, Any] = {
        "thread_name_prefix": "silent",
        "managed": "silent",
        "remote_monitoring_radio": "silent",
        "storage_access": _is_none,
        "working_dir": _is_none,
    }

    def __init__(self, label: str = "threads", max_threads: int | None = 2, **parsl_options: Any) -> None:
        self.label = _check_str("ThreadPoolExecutor", "label", label)
        self.max_threads = _default_threads() if max_threads is None else _check_int(
            "ThreadPoolExecutor", "max_threads", max_threads, 1)
        self.parsl_options = _take_parsl_options("ThreadPoolExecutor", parsl_options, self.PARSL_OPTIONS,
                                                 "Sprig has no data staging and runs apps in the current directory")
        self.remote_monitoring_radio = _radio("ThreadPoolExecutor", parsl_options, radios.MultiprocessingQueueRadio)

    def to_spec(self) -> dict[str, Any]:
        return {"kind": "threads", "label": self.label, "max_threads": self.max_threads}


class HighThroughputExecutor(BlockStatusQueries, BlockProviderExecutor):
    """Runs Python and bash apps in Python worker processes (Parsl's ``HighThroughputExecutor``).

    The provider starts blocks; each block runs ``cores / cores_per_worker`` workers, at most
    ``max_workers_per_node`` (``max_workers`` is Parsl's older name for it; None: no limit).
    ``prefetch_capacity``, ``heartbeat_period`` and ``heartbeat_threshold`` (seconds) left None let
    Sprig choose (prefetch while tasks are short; heartbeats every 2 s, a manager silent for 30 s is
    lost). ``worker_logdir_root`` defaults to ``<run_dir>/<label>``.

    ``cpu_affinity`` pins each worker of a block to some of the CPUs its manager may use:
    ``'none'`` (default), ``'block'``, ``'block-reverse'``, ``'alternating'`` or
    ``'list:0,1:2-3'`` (one group per worker), as in Parsl (see :mod:`sprig.affinity`); a pinned
    worker also gets ``OMP_NUM_THREADS``, ``GOMP_CPU_AFFINITY`` and ``KMP_AFFINITY``. Every worker
    gets ``PARSL_WORKER_RANK``, ``PARSL_WORKER_COUNT``, ``PARSL_WORKER_POOL_ID`` and
    ``PARSL_WORKER_BLOCK_ID`` in its environment. A value of the wrong form raises
    :class:`~sprig.errors.ConfigurationError`, also when assigned later.

    As in Parsl: ``mem_per_worker`` (GB) limits a block's workers to its node's memory
    (``mem_per_node`` of the provider, else what this machine has available) over it;
    ``available_accelerators`` (a count, or a list of device names) gives each worker one of
    them (``CUDA_VISIBLE_DEVICES``, ``ROCR_VISIBLE_DEVICES``, ``ZE_AFFINITY_MASK``) and at most
    one worker each; ``drain_period`` (seconds) stops a block taking tasks that long after it
    started, and ends it once it holds none; ``launch_cmd`` naming ``process_worker_pool.py``
    wraps Sprig's manager in what comes before it (a container runtime, ``numactl``), any other
    ``launch_cmd`` runs as given (and, not being a manager, fails the block).
    :class:`~sprig.executor_status.BlockStatusQueries` has the block queries
    (``connected_blocks()``, ``connected_managers()``, ``status()``, ``scale_in()``, …).

    ``address`` and ``worker_port_range`` (``(low, high)``) are where managers of a
    :class:`~sprig.providers.SlurmProvider` connect back: the only address, and a port of that
    range, that a block's listener binds (None: this host's address); other providers' blocks
    talk over pipes and ignore them.

    Parsl options accepted and ignored silently (no interchange process, the pipes are
    private): ``loopback_address``, ``worker_port``, ``worker_ports``, ``interchange_port_range``, ``poll_period``, ``address_probe_timeout``,
    ``manager_selector``, ``block_error_handler``, ``encrypted``, ``remote_monitoring_radio`` (kept as that
    attribute, default ``HTEXRadio()``; see :mod:`sprig.radios`),
    ``mpi_launcher``; and with a warning when set: ``interchange_launch_cmd``,
    ``storage_access``, ``working_dir``, ``enable_mpi_mode``.
    """

    _repr_fields = ("label", "provider", "max_workers_per_node", "cores_per_worker", "worker_debug",
                    "heartbeat_period", "heartbeat_threshold", "prefetch_capacity", "worker_logdir_root",
                    "cpu_affinity", "mem_per_worker", "available_accelerators", "drain_period", "launch_cmd")
    RESOURCE_KEYS = frozenset({"priority"})
    PARSL_OPTIONS: dict[str, Any] = {
        "loopback_address": "silent",
        "worker_port": "silent",
        "worker_ports": "silent",
        "interchange_port_range": "silent",
        "poll_period": "silent",
        "address_probe_timeout": "silent",
        "manager_selector": "silent",
        "block_error_handler": "silent",
        "encrypted": "silent",
        "remote_monitoring_radio": "silent",
        "mpi_launcher": "silent",
        "interchange_launch_cmd": _is_none,
        "storage_access": _is_none,
        "working_dir": _is_none,
        "enable_mpi_mode": _equals(False),
    }

    def __init__(self, label: str = "HighThroughputExecutor", provider: ExecutionProvider | None = None, *,
                 max_workers_per_node: int | float | None = None, max_workers: int | float | None = None,
                 cores_per_worker: float = 1.0, worker_debug: bool = False,
                 heartbeat_period: float | None = None, heartbeat_threshold: float | None = None,
                 prefetch_capacity: int | None = None, worker_logdir_root: str | None = None,
                 cpu_affinity: str = "none", mem_per_worker: float | None = None,
                 available_accelerators: int | Sequence[str] = (), drain_period: float | None = None,
                 launch_cmd: str | None = None, address: str | None = None,
                 worker_port_range: tuple[int, int] = (54000, 55000), **parsl_options: Any) -> None:
        owner = "HighThroughputExecutor"
        self.label = _check_str(owner, "label", label)
        if provider is None:
            provider = LocalProvider()
        if not isinstance(provider, ExecutionProvider) and not is_python_defined(provider):
            raise TypeError(f"{owner}: provider must be a provider such as LocalProvider(), or an object with "
                            f"Parsl's submit/status/cancel methods, not {type(provider).__name__}")
        self.provider = provider
        per_node = _max_workers(owner, "max_workers_per_node", max_workers_per_node)
        older = _max_workers(owner, "max_workers", max_workers)
        if per_node is not None and older is not None and per_node != older:
            raise ConfigurationError(f"{owner}: max_workers_per_node ({per_node}) and max_workers ({older}) differ; "
                                     "give max_workers_per_node only")
        self.max_workers_per_node = per_node if per_node is not None else older
        self.cores_per_worker = _check_number(owner, "cores_per_worker", cores_per_worker, positive=True)
        self.worker_debug = _check_bool(owner, "worker_debug", worker_debug)
        self.heartbeat_period = None if heartbeat_period is None else _check_number(
            owner, "heartbeat_period", heartbeat_period, positive=True)
        self.heartbeat_threshold = None if heartbeat_threshold is None else _check_number(
            owner, "heartbeat_threshold", heartbeat_threshold, positive=True)
        self.prefetch_capacity = None if prefetch_capacity is None else _check_int(
            owner, "prefetch_capacity", prefetch_capacity, 0)
        self.worker_logdir_root = _check_str(owner, "worker_logdir_root", worker_logdir_root, allow_none=True)
        self.cpu_affinity = cpu_affinity
        self.mem_per_worker = None if mem_per_worker is None else _check_number(
            owner, "mem_per_worker", mem_per_worker, positive=True)
        self.available_accelerators = _accelerators(owner, available_accelerators)
        self.drain_period = None if drain_period is None else _check_number(owner, "drain_period", drain_period, positive=True)
        self.launch_cmd = _check_str(owner, "launch_cmd", launch_cmd, allow_none=True)
        self.address = _check_str(owner, "address", address, allow_none=True)
        ports = tuple(worker_port_range) if isinstance(worker_port_range, (tuple, list)) else ()
        if len(ports) != 2 or not all(isinstance(p, int) and not isinstance(p, bool) for p in ports) \
                or not 1 <= ports[0] <= ports[1] <= 65535:
            raise ConfigurationError(f"{owner}: worker_port_range is {worker_port_range!r}; give (low, high) ports, "
                                     "1 <= low <= high <= 65535")
        self.worker_port_range = (ports[0], ports[1])
        self.parsl_options = _take_parsl_options(owner, parsl_options, self.PARSL_OPTIONS,
                                                 "Sprig's blocks talk to this process over pipes and have no "
                                                 "staging, memory, accelerator or MPI settings")
        self.remote_monitoring_radio = _radio(owner, parsl_options, radios.HTEXRadio)

    @property
    def max_workers(self) -> int | None:
        """Parsl's older name for :attr:`max_workers_per_node`."""
        return self.max_workers_per_node

    @property
    def cpu_affinity(self) -> str:
        """How workers are pinned to CPUs (normalised to lower case); checked when set."""
        return self._cpu_affinity

    @cpu_affinity.setter
    def cpu_affinity(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"HighThroughputExecutor: cpu_affinity must be a str, not {type(value).__name__}")
        try:
            self._cpu_affinity = affinity.parse(value)
        except ValueError as exc:
            raise ConfigurationError(f"HighThroughputExecutor({self.label!r}): {exc}") from None

    def to_spec(self) -> dict[str, Any]:
        return {
            "kind": "htex",
            "label": self.label,
            "max_workers": self.max_workers_per_node,
            "cores_per_worker": self.cores_per_worker,
            "worker_debug": self.worker_debug,
            "prefetch": self.prefetch_capacity,
            "heartbeat_period": self.heartbeat_period,
            "heartbeat_threshold": self.heartbeat_threshold,
            "worker_logdir_root": self.worker_logdir_root,
            "cpu_affinity": self.cpu_affinity,
            "mem_per_worker": self.mem_per_worker,
            "available_accelerators": list(self.available_accelerators),
            "drain_period": self.drain_period,
            "launch_cmd": self.launch_cmd,
            "address": self.address,
            "worker_port_range": list(self.worker_port_range),
            # A provider defined in Python is driven by the engine through its own methods.
            "provider": python_provider_spec(self.provider) if is_python_defined(self.provider) else self.provider.to_spec(),
        }


def _accelerators(owner: str, value: Any) -> list[str]:
    """Parsl's ``available_accelerators``: a count ``n`` means devices ``"0"`` … ``"n-1"``."""
    if isinstance(value, bool):
        raise TypeError(f"{owner}: available_accelerators must be a count or a list of device names, not a bool")
    if isinstance(value, int):
        return [str(i) for i in range(_check_int(owner, "available_accelerators", value, 0))]
    if isinstance(value, str):
        raise TypeError(f"{owner}: available_accelerators must be a count or a list of device names, not a str")
    names = list(value)
    for name in names:
        if not isinstance(name, str) or not name or "," in name:
            raise ConfigurationError(f"{owner}: available_accelerators holds {name!r}; device names are non-empty "
                                     "strings without commas")
    return names


def _max_workers(owner: str, name: str, value: Any) -> int | None:
    if value is None or (isinstance(value, float) and value == float("inf")):
        return None
    return _check_int(owner, name, value, 1)


__all__ = ["Executor", "ThreadPoolExecutor", "HighThroughputExecutor"]
