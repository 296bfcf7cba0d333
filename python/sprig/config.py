"""Configs: where and how apps run (Parsl's ``Config``, executors, providers and channels).

Every object here only describes; ``to_spec()`` turns it into the plain dict the engine loads
(``sprig.load(config)`` does that). Nothing starts until the config is loaded.

Arguments are checked when the object is made: a wrong type raises ``TypeError``, a value out of
range :class:`sprig.errors.ConfigurationError`, and an unknown keyword ``TypeError`` naming it (a
typo must not pass silently). Parsl options that Sprig has no use for are accepted so that Parsl
configs run unchanged; each class lists them in ``PARSL_OPTIONS``. Those that change nothing here
(ports, addresses, usage tracking, logging set-up, ...) are accepted silently; those whose
behaviour Sprig does not provide (monitoring, checkpoints, staging, MPI, ...) emit one
:class:`sprig.errors.SprigWarning` when given a value other than Parsl's default.

Ready-made configs: :func:`local_threads` and :func:`htex_local`.
"""

from __future__ import annotations

import os

from sprig import affinity
from sprig.errors import ConfigurationError, InvalidResourceSpecification, SprigWarning

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

# MARK: helpers

def _is_none(value: Any) -> bool:
    return value is None


def _equals(default: Any) -> Callable[[Any], bool]:
    return lambda value: value == default


def _is_empty(value: Any) -> bool:
    return not value


def _take_parsl_options(owner: str, given: dict[str, Any], rules: dict[str, Any], why: str) -> dict[str, Any]:
    """Checks keyword arguments beyond the supported ones, against ``rules``: each Parsl option maps
    to ``"silent"`` (always accepted quietly) or to a predicate telling whether a value is harmless;
    other values are accepted with a warning (pointing at the caller's line). A name not in
    ``rules`` raises ``TypeError``."""
    for name, value in given.items():
        rule = rules.get(name)
        if rule is None:
            hint = ""
            import difflib

            close = difflib.get_close_matches(name, list(rules) + list(_SUPPORTED.get(owner, ())), n=1)
            if close:
                hint = f" (did you mean {close[0]!r}?)"
            raise TypeError(f"{owner}() got an unexpected keyword argument {name!r}{hint}")
        if rule != "silent" and not rule(value):
            import warnings

            warnings.warn(f"{owner}({name}={value!r}) is accepted for Parsl compatibility but ignored: {why}",
                          SprigWarning, stacklevel=3)
    return dict(given)


def _check_int(owner: str, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{owner}: {name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ConfigurationError(f"{owner}: {name} is {value}; it must be {minimum} or more")
    return value


def _check_number(owner: str, name: str, value: Any, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{owner}: {name} must be a number, not {type(value).__name__}")
    value = float(value)
    if value != value or value < 0 or (positive and value == 0):
        raise ConfigurationError(f"{owner}: {name} is {value}; it must be {'more than' if positive else 'at least'} 0")
    return value


def _check_str(owner: str, name: str, value: Any, allow_none: bool = False) -> Any:
    if value is None and allow_none:
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise TypeError(f"{owner}: {name} must be a str, not {type(value).__name__}")
    return value


def _check_bool(owner: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be True or False, not {value!r}")
    return value


class _Described:
    """``repr`` shows the arguments that differ from their defaults, like Parsl's objects."""

    _repr_fields: tuple[str, ...] = ()

    def __repr__(self) -> str:
        parts = [f"{name}={getattr(self, name)!r}" for name in self._repr_fields]
        parts += [f"{name}={value!r}" for name, value in getattr(self, "parsl_options", {}).items()]
        return f"{type(self).__name__}({', '.join(parts)})"


# Names each class supports (used for "did you mean" hints).
_SUPPORTED: dict[str, tuple[str, ...]] = {
    "Config": ("executors", "retries", "run_dir", "strategy", "max_idletime", "exit_mode"),
    "ThreadPoolExecutor": ("label", "max_threads"),
    "HighThroughputExecutor": ("label", "provider", "max_workers_per_node", "max_workers", "cores_per_worker",
                               "worker_debug", "heartbeat_period", "heartbeat_threshold", "prefetch_capacity",
                               "worker_logdir_root", "cpu_affinity"),
    "LocalProvider": ("channel", "init_blocks", "min_blocks", "max_blocks", "worker_init"),
    "LocalChannel": (),
    "SSHChannel": ("hostname", "username", "port", "script_dir", "key_filename", "host_keys_filename",
                   "config_file", "ssh_options", "python", "multiplex"),
    "AdHocProvider": ("channels", "worker_init", "cores_per_host"),
}


# MARK: channels


class Channel(_Described):
    """Where a provider runs its commands (Parsl's channels)."""


class LocalChannel(Channel):
    """Commands run on this machine (the only channel ``LocalProvider`` takes).

    Parsl options accepted and ignored: ``script_dir``, ``userhome``, ``envs``.
    """

    PARSL_OPTIONS: dict[str, Any] = {"script_dir": "silent", "userhome": "silent", "envs": "silent"}

    def __init__(self, **parsl_options: Any) -> None:
        self.parsl_options = _take_parsl_options("LocalChannel", parsl_options, self.PARSL_OPTIONS,
                                                 "Sprig writes no scripts for local blocks")


class SSHChannel(Channel):
    """A host reached with the system OpenSSH client (``ssh``), as Parsl's removed ``SSHChannel``.

    ``~/.ssh/config``, agents, ``ProxyJump`` and known-hosts policy apply as for any ``ssh`` command;
    ``config_file`` (``ssh -F``) and ``ssh_options`` (extra ``ssh`` arguments) add to them.
    Authentication is by key or agent only (``ssh`` runs in batch mode): a ``password`` is refused.
    ``python`` is the interpreter on the host (``python3``): it must be the Python minor version
    Sprig embeds; Sprig's own code travels with the block, nothing needs installing there.
    ``script_dir`` (default ``~/.sprig``) holds the shipped code and the block's logs.

    Parsl options accepted and ignored: ``envs``, ``gssapi_auth`` (ssh's own config decides),
    ``skip_auth``.
    """

    PARSL_OPTIONS: dict[str, Any] = {"envs": "silent", "gssapi_auth": "silent", "skip_auth": "silent"}
    _repr_fields = ("hostname", "username", "port", "script_dir")

    def __init__(self, hostname: str, username: str | None = None, password: str | None = None,
                 script_dir: str | None = None, port: int | None = None, key_filename: str | None = None,
                 host_keys_filename: str | None = None, config_file: str | None = None,
                 ssh_options: list[str] | None = None, python: str = "python3", multiplex: bool = True,
                 **parsl_options: Any) -> None:
        if password is not None:
            raise ConfigurationError(f"SSHChannel({hostname!r}): passwords are not supported; "
                                     "use a key (key_filename=...) or an ssh agent")
        self.hostname = _check_str("SSHChannel", "hostname", hostname)
        if not self.hostname:
            raise ConfigurationError("SSHChannel: hostname is empty")
        self.username = username
        self.port = None if port is None else _check_int("SSHChannel", "port", port, 1)
        self.script_dir = script_dir
        self.key_filename = key_filename
        self.host_keys_filename = host_keys_filename
        self.config_file = config_file
        self.ssh_options = list(ssh_options or [])
        self.python = _check_str("SSHChannel", "python", python)
        self.multiplex = bool(multiplex)
        self.parsl_options = _take_parsl_options("SSHChannel", parsl_options, self.PARSL_OPTIONS,
                                                 "Sprig runs the system ssh client")

    def to_spec(self) -> dict[str, Any]:
        return {"kind": "ssh", "hostname": self.hostname, "username": self.username, "port": self.port,
                "script_dir": self.script_dir, "key_filename": self.key_filename,
                "host_keys_filename": self.host_keys_filename, "config_file": self.config_file,
                "ssh_options": list(self.ssh_options), "python": self.python, "multiplex": self.multiplex}


# MARK: launchers


class Launcher(_Described):
    """How a block's command is started on its nodes (Parsl's launchers). Sprig starts one manager
    per block directly; :class:`SingleNodeLauncher` and :class:`SimpleLauncher` mean exactly that
    on one node and are accepted silently."""


class SingleNodeLauncher(Launcher):
    """One manager per block on one node (Parsl's default launcher, and what Sprig does)."""

    def __init__(self, debug: bool = True, fail_on_any: bool = False) -> None:
        self.debug = debug
        self.fail_on_any = fail_on_any


class SimpleLauncher(Launcher):
    """The block's command as it is, once (Parsl's ``SimpleLauncher``): what Sprig does."""

    def __init__(self, debug: bool = True) -> None:
        self.debug = debug


# MARK: providers


class ExecutionProvider(_Described):
    """Starts and stops blocks for an executor (Parsl's providers).

    A provider has ``init_blocks`` (started at load), ``min_blocks``/``max_blocks`` (the range the
    ``simple`` strategy scales in) and ``worker_init`` (shell commands run before each block's
    manager, e.g. activating a venv). Subclasses give their spec with :meth:`to_spec`.
    """

    _repr_fields = ("init_blocks", "min_blocks", "max_blocks", "worker_init")

    def __init__(self, owner: str, init_blocks: int, min_blocks: int, max_blocks: int, worker_init: str) -> None:
        self.init_blocks = _check_int(owner, "init_blocks", init_blocks, 0)
        self.min_blocks = _check_int(owner, "min_blocks", min_blocks, 0)
        self.max_blocks = _check_int(owner, "max_blocks", max_blocks, 1)
        self.worker_init = _check_str(owner, "worker_init", worker_init)
        if self.min_blocks > self.max_blocks:
            raise ConfigurationError(f"{owner}: min_blocks ({min_blocks}) is more than max_blocks ({max_blocks})")
        if self.init_blocks > self.max_blocks:
            raise ConfigurationError(f"{owner}: init_blocks ({init_blocks}) is more than max_blocks ({max_blocks})")

    def _block_spec(self) -> dict[str, Any]:
        return {"init_blocks": self.init_blocks, "min_blocks": self.min_blocks, "max_blocks": self.max_blocks,
                "worker_init": self.worker_init}

    def to_spec(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} has no spec")


class LocalProvider(ExecutionProvider):
    """Blocks on this machine: each block is one manager process with its workers.

    Parsl options accepted and ignored: ``nodes_per_block`` (warns unless 1), ``launcher`` (warns
    unless None or a :class:`SingleNodeLauncher`), ``cmd_timeout``, ``parallelism``,
    ``move_files``, ``walltime``.
    """

    PARSL_OPTIONS: dict[str, Any] = {
        "nodes_per_block": _equals(1),
        "launcher": lambda v: v is None or isinstance(v, (SingleNodeLauncher, SimpleLauncher)),
        "cmd_timeout": "silent",
        "parallelism": "silent",
        "move_files": "silent",
        "walltime": "silent",
    }

    def __init__(self, *, channel: Channel | None = None, init_blocks: int = 1, min_blocks: int = 0,
                 max_blocks: int = 1, worker_init: str = "", **parsl_options: Any) -> None:
        if channel is not None and not isinstance(channel, LocalChannel):
            raise TypeError(f"LocalProvider: channel must be a LocalChannel (blocks run on this machine), "
                            f"not {type(channel).__name__}")
        super().__init__("LocalProvider", init_blocks, min_blocks, max_blocks, worker_init)
        self.channel = channel if channel is not None else LocalChannel()
        self.parsl_options = _take_parsl_options("LocalProvider", parsl_options, self.PARSL_OPTIONS,
                                                 "a local block is one manager on this machine")

    def to_spec(self) -> dict[str, Any]:
        return {"kind": "local", **self._block_spec()}


class AdHocProvider(ExecutionProvider):
    """One block on each host of a fixed list (Parsl's removed ``AdHocProvider``), all feeding one
    executor, so tasks balance across the hosts by free worker slots.

    ``channels`` are :class:`SSHChannel` (or :class:`LocalChannel`) objects, one per host;
    ``worker_init`` runs on each host before its manager (``source /etc/profile; source ~/.profile``).
    A host that cannot be reached is reported by name and retried; the others carry on.
    Parsl options accepted and ignored: ``cmd_timeout``, ``parallelism``, ``move_files``.
    """

    PARSL_OPTIONS: dict[str, Any] = {"cmd_timeout": "silent", "parallelism": "silent", "move_files": "silent"}
    _repr_fields = ("channels", "worker_init")

    def __init__(self, channels: list[Channel] | None = None, worker_init: str = "", cores_per_host: int | None = None,
                 **parsl_options: Any) -> None:
        channels = list(channels or [])
        if not channels:
            raise ConfigurationError("AdHocProvider: channels is empty; give one SSHChannel per host")
        for channel in channels:
            if not isinstance(channel, (SSHChannel, LocalChannel)):
                raise TypeError(f"AdHocProvider: channels must be SSHChannel or LocalChannel objects, not {type(channel).__name__}")
        count = len(channels)
        super().__init__("AdHocProvider", count, count, count, worker_init)
        self.channels = channels
        self.cores_per_host = cores_per_host
        self.parsl_options = _take_parsl_options("AdHocProvider", parsl_options, self.PARSL_OPTIONS,
                                                 "one block per host, started over ssh")

    def to_spec(self) -> dict[str, Any]:
        specs = [c.to_spec() if isinstance(c, SSHChannel) else {"kind": "local"} for c in self.channels]
        return {"kind": "adhoc", "channels": specs, "worker_init": self.worker_init, "cores_per_host": self.cores_per_host}


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


def _default_threads() -> int:
    return min(32, (os.cpu_count() or 1) + 4)


class ThreadPoolExecutor(Executor):
    """Runs apps on threads of the Sprig process (Parsl's ``ThreadPoolExecutor``).

    Python apps overlap while they wait (sleep, I/O, C code that releases the GIL); CPU-bound
    Python belongs on :class:`HighThroughputExecutor`. ``max_threads=None`` means
    ``min(32, cores + 4)``, as for :class:`concurrent.futures.ThreadPoolExecutor`.

    Parsl options accepted and ignored: ``thread_name_prefix``, ``managed``,
    ``remote_monitoring_radio``; ``storage_access`` and ``working_dir`` warn when set.
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

    def to_spec(self) -> dict[str, Any]:
        return {"kind": "threads", "label": self.label, "max_threads": self.max_threads}


class HighThroughputExecutor(Executor):
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

    Parsl options accepted and ignored silently (no ports, no interchange process, the pipes are
    private): ``address``, ``loopback_address``, ``worker_port``, ``worker_ports``,
    ``worker_port_range``, ``interchange_port_range``, ``poll_period``, ``address_probe_timeout``,
    ``manager_selector``, ``block_error_handler``, ``encrypted``, ``remote_monitoring_radio``,
    ``mpi_launcher``; and with a warning when set: ``launch_cmd``, ``interchange_launch_cmd``,
    ``storage_access``, ``working_dir``, ``mem_per_worker``, ``available_accelerators``,
    ``drain_period``, ``enable_mpi_mode``.
    """

    _repr_fields = ("label", "provider", "max_workers_per_node", "cores_per_worker", "worker_debug",
                    "heartbeat_period", "heartbeat_threshold", "prefetch_capacity", "worker_logdir_root",
                    "cpu_affinity")
    RESOURCE_KEYS = frozenset({"priority"})
    PARSL_OPTIONS: dict[str, Any] = {
        "address": "silent",
        "loopback_address": "silent",
        "worker_port": "silent",
        "worker_ports": "silent",
        "worker_port_range": "silent",
        "interchange_port_range": "silent",
        "poll_period": "silent",
        "address_probe_timeout": "silent",
        "manager_selector": "silent",
        "block_error_handler": "silent",
        "encrypted": "silent",
        "remote_monitoring_radio": "silent",
        "mpi_launcher": "silent",
        "launch_cmd": _is_none,
        "interchange_launch_cmd": _is_none,
        "storage_access": _is_none,
        "working_dir": _is_none,
        "mem_per_worker": _is_none,
        "available_accelerators": _is_empty,
        "drain_period": _is_none,
        "enable_mpi_mode": _equals(False),
    }

    def __init__(self, label: str = "HighThroughputExecutor", provider: ExecutionProvider | None = None, *,
                 max_workers_per_node: int | float | None = None, max_workers: int | float | None = None,
                 cores_per_worker: float = 1.0, worker_debug: bool = False,
                 heartbeat_period: float | None = None, heartbeat_threshold: float | None = None,
                 prefetch_capacity: int | None = None, worker_logdir_root: str | None = None,
                 cpu_affinity: str = "none", **parsl_options: Any) -> None:
        owner = "HighThroughputExecutor"
        self.label = _check_str(owner, "label", label)
        if provider is None:
            provider = LocalProvider()
        if not isinstance(provider, ExecutionProvider):
            raise TypeError(f"{owner}: provider must be a provider such as LocalProvider(), "
                            f"not {type(provider).__name__}")
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
        self.parsl_options = _take_parsl_options(owner, parsl_options, self.PARSL_OPTIONS,
                                                 "Sprig's blocks talk to this process over pipes and have no "
                                                 "staging, memory, accelerator or MPI settings")

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
            "provider": self.provider.to_spec(),
        }


def _max_workers(owner: str, name: str, value: Any) -> int | None:
    if value is None or (isinstance(value, float) and value == float("inf")):
        return None
    return _check_int(owner, name, value, 1)


# MARK: config

_STRATEGIES = {"simple": "simple", "htex_auto_scale": "simple", "none": "none"}
_EXIT_MODES = ("cleanup", "skip", "wait")


class Config(_Described):
    """Where and how apps run (Parsl's ``Config``).

    - ``executors``: executors with unique labels (default: one ``ThreadPoolExecutor()``).
    - ``retries``: how many more times a failing app runs before its future fails.
    - ``run_dir``: the folder for logs (relative to the working directory).
    - ``strategy``: ``'simple'`` (blocks are added while tasks wait, up to ``max_blocks``, and
      removed after ``max_idletime`` seconds idle, down to ``min_blocks``) or ``'none'``/``None``
      (keep ``init_blocks``). Parsl's ``'htex_auto_scale'`` means ``'simple'`` here.
    - ``exit_mode``: what leaving ``with load(config):`` does: ``'cleanup'`` (default) and
      ``'wait'`` wait for every task and unload; ``'skip'`` does nothing.

    Parsl options accepted and ignored silently: ``app_cache``, ``usage_tracking``,
    ``project_name``, ``initialize_logging``, ``garbage_collect``, ``internal_tasks_max_threads``,
    ``strategy_period``, ``lazy_errors``, ``data_management_max_threads``; and with a warning when
    set: ``checkpoint_mode``, ``checkpoint_files``, ``checkpoint_period``, ``monitoring``,
    ``memoizer``, ``dependency_resolver``.
    - ``std_autopath``: ``std_autopath(task_record, "stdout" | "stderr")`` gives the target of a
      ``stdout=AUTO_LOGNAME`` / ``stderr=AUTO_LOGNAME`` (a path, a ``(path, mode)`` tuple or a
      ``File``); called once per task and stream, when the app is called.
    - ``retry_handler``: ``handler(exception, task_record) -> float``, what a failure costs against
      ``retries`` (default 1 each); a task is retried while its costs add up to at most ``retries``.
      An exception raised by the handler fails the task with that exception. It may also be set
      as an attribute after the config is made, as in Parsl.
    """

    _repr_fields = ("executors", "retries", "run_dir", "strategy", "max_idletime", "exit_mode")
    PARSL_OPTIONS: dict[str, Any] = {
        "app_cache": "silent",
        "usage_tracking": "silent",
        "project_name": "silent",
        "initialize_logging": "silent",
        "garbage_collect": "silent",
        "internal_tasks_max_threads": "silent",
        "strategy_period": "silent",
        "lazy_errors": "silent",
        "data_management_max_threads": "silent",
        "checkpoint_mode": _is_none,
        "checkpoint_files": _is_empty,
        "checkpoint_period": _is_none,
        "monitoring": _is_none,
        "memoizer": _is_none,
        "dependency_resolver": _is_none,
    }

    def __init__(self, executors: Iterable[Executor] | None = None, *, retries: int = 0,
                 run_dir: str = "runinfo", strategy: str | None = "simple", max_idletime: float = 120.0,
                 exit_mode: str = "cleanup", retry_handler: Any = None, std_autopath: Any = None,
                 **parsl_options: Any) -> None:
        owner = "Config"
        if retry_handler is not None and not callable(retry_handler):
            raise TypeError(f"{owner}: retry_handler must be a function (exception, task_record) -> float, "
                            f"not {type(retry_handler).__name__}")
        self.retry_handler = retry_handler
        if std_autopath is not None and not callable(std_autopath):
            raise TypeError(f"{owner}: std_autopath must be a function (task_record, stream) -> path, "
                            f"not {type(std_autopath).__name__}")
        self.std_autopath = std_autopath
        chosen = tuple(executors) if executors is not None else ()
        if not chosen:
            chosen = (ThreadPoolExecutor(),)
        for executor in chosen:
            if not isinstance(executor, Executor):
                raise TypeError(f"{owner}: executors must be executors such as ThreadPoolExecutor() or "
                                f"HighThroughputExecutor(), not {type(executor).__name__}")
        labels = [e.label for e in chosen]
        if any(not label for label in labels):
            raise ConfigurationError(f"{owner}: an executor has an empty label")
        duplicates = sorted({label for i, label in enumerate(labels) if label in labels[:i]})
        if duplicates:
            raise ConfigurationError(f"{owner}: executors must have unique labels "
                                     f"({', '.join(repr(d) for d in duplicates)} is used more than once)")
        self.executors: tuple[Executor, ...] = chosen
        self.retries = _check_int(owner, "retries", retries, 0)
        self.run_dir = _check_str(owner, "run_dir", run_dir)
        if strategy is None:
            strategy = "none"
        if not isinstance(strategy, str):
            raise TypeError(f"{owner}: strategy must be 'simple', 'none' or None, not {type(strategy).__name__}")
        if strategy not in _STRATEGIES:
            raise ConfigurationError(f"{owner}: unknown strategy {strategy!r}; use 'simple', 'none' or None")
        self.strategy = strategy
        self.max_idletime = _check_number(owner, "max_idletime", max_idletime)
        if exit_mode not in _EXIT_MODES:  # a TypeError, as Parsl's Literal type makes it
            raise TypeError(f"{owner}: exit_mode must be 'cleanup', 'skip' or 'wait', not {exit_mode!r}")
        self.exit_mode = exit_mode
        self.parsl_options = _take_parsl_options(owner, parsl_options, self.PARSL_OPTIONS,
                                                 "Sprig has no monitoring, checkpointing "
                                                 "or pluggable dependency resolution yet")

    def to_spec(self) -> dict[str, Any]:
        """The plain dict the engine loads."""
        return {
            "executors": [executor.to_spec() for executor in self.executors],
            "retries": self.retries,
            "run_dir": self.run_dir,
            "strategy": _STRATEGIES[self.strategy],
            "max_idletime": self.max_idletime,
            "retry_handler": self.retry_handler,
            "std_autopath": self.std_autopath is not None,
        }


# MARK: ready-made configs


def local_threads() -> Config:
    """Parsl's ``parsl.configs.local_threads``: one ``ThreadPoolExecutor()`` (label ``threads``,
    2 threads)."""
    return Config(executors=[ThreadPoolExecutor()])


def htex_local() -> Config:
    """Parsl's ``parsl.configs.htex_local``: one ``HighThroughputExecutor`` labelled ``htex_local``,
    1 core per worker, one ``LocalProvider`` block (``init_blocks=1``, ``max_blocks=1``)."""
    return Config(executors=[HighThroughputExecutor(label="htex_local", cores_per_worker=1,
                                                    provider=LocalProvider(init_blocks=1, max_blocks=1))])


__all__ = [
    "Config", "Executor", "ThreadPoolExecutor", "HighThroughputExecutor", "ExecutionProvider", "LocalProvider",
    "Channel", "LocalChannel", "Launcher", "SingleNodeLauncher", "SimpleLauncher", "local_threads", "htex_local",
]
