"""Where blocks run: channels (this machine, or a host over ssh), launchers, and the providers
that start and stop blocks for an executor (Parsl's ``LocalProvider`` and ``AdHocProvider``).

Like every config object these only describe (see :mod:`sprig.config`); ``to_spec()`` gives the
dict the engine loads.
"""

from __future__ import annotations

from sprig.config_checks import _check_int, _check_str, _Described, _equals, _take_parsl_options
from sprig.errors import ConfigurationError

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from typing import Any


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
    """How a block's command is started on its nodes (Parsl's launchers). A local block is one
    manager, so :class:`SingleNodeLauncher` and :class:`SimpleLauncher` mean exactly that there and
    are accepted silently; :class:`SlurmProvider` uses the launcher in its batch script."""

    def to_spec(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} cannot start a Slurm block's command")


class SingleNodeLauncher(Launcher):
    """One manager per block on one node (Parsl's default launcher, and what Sprig does)."""

    def __init__(self, debug: bool = True, fail_on_any: bool = False) -> None:
        self.debug = debug
        self.fail_on_any = fail_on_any

    def to_spec(self) -> dict[str, Any]:
        return {"kind": "single_node", "debug": bool(self.debug), "fail_on_any": bool(self.fail_on_any)}


class SimpleLauncher(Launcher):
    """The block's command as it is, once (Parsl's ``SimpleLauncher``): what Sprig does."""

    def __init__(self, debug: bool = True) -> None:
        self.debug = debug

    def to_spec(self) -> dict[str, Any]:
        return {"kind": "simple", "debug": bool(self.debug)}


class SrunLauncher(Launcher):
    """The command as a Slurm job step, one per node (``srun --ntasks=N --ntasks-per-node=1``),
    with ``overrides`` added to srun's options (Parsl's ``SrunLauncher``)."""

    def __init__(self, debug: bool = True, overrides: str = "") -> None:
        self.debug = debug
        self.overrides = _check_str("SrunLauncher", "overrides", overrides)

    def to_spec(self) -> dict[str, Any]:
        return {"kind": "srun", "debug": bool(self.debug), "overrides": self.overrides}


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
        self.max_blocks = _check_int(owner, "max_blocks", max_blocks, 0)
        self.worker_init = _check_str(owner, "worker_init", worker_init)
        if self.min_blocks > self.max_blocks:
            raise ConfigurationError(f"{owner}: min_blocks ({min_blocks}) is more than max_blocks ({max_blocks})")

    def _block_spec(self) -> dict[str, Any]:
        return {"init_blocks": self.init_blocks, "min_blocks": self.min_blocks, "max_blocks": self.max_blocks,
                "worker_init": self.worker_init}

    def to_spec(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} has no spec")


class LocalProvider(ExecutionProvider):
    """Blocks on this machine: each block is one manager process with its workers.

    ``cores_per_node`` and ``mem_per_node`` (GB; attributes, as in Parsl, set after construction
    too) say what a block may use; None: this machine's cores and available memory.

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
        self.cores_per_node: int | None = None
        self.mem_per_node: float | None = None
        self.parsl_options = _take_parsl_options("LocalProvider", parsl_options, self.PARSL_OPTIONS,
                                                 "a local block is one manager on this machine")

    # Parsl's provider interface, for code that drives a provider itself (sprig.local_jobs): a
    # loaded config's blocks are the engine's and never go through these.

    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.localprovider") -> str:
        """Runs ``command`` through the launcher as a job on this machine; returns its id."""
        return self._direct_jobs().submit(self, command, tasks_per_node, job_name)

    def status(self, job_ids: list[Any]) -> list[Any]:
        """The ``JobStatus`` of each job :meth:`submit` started (its state, exit code, output)."""
        return self._direct_jobs().status(list(job_ids))

    def cancel(self, job_ids: list[Any]) -> list[bool]:
        """Ends the jobs :meth:`submit` started (their whole process groups)."""
        return self._direct_jobs().cancel(list(job_ids))

    def _direct_jobs(self) -> Any:
        jobs = self.__dict__.get("_jobs")
        if jobs is None:
            from sprig.local_jobs import LocalJobs

            jobs = self.__dict__["_jobs"] = LocalJobs()
        return jobs

    def to_spec(self) -> dict[str, Any]:
        cores = None if self.cores_per_node is None else _check_int("LocalProvider", "cores_per_node", self.cores_per_node, 1)
        memory = self.mem_per_node
        if memory is not None and (isinstance(memory, bool) or not isinstance(memory, (int, float)) or memory <= 0):
            raise ConfigurationError(f"LocalProvider: mem_per_node is {memory!r}; it must be a number of GB above 0")
        return {"kind": "local", **self._block_spec(), "cores_per_node": cores,
                "mem_per_node": None if memory is None else float(memory)}


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


from sprig.slurm_provider import SlurmProvider  # noqa: E402  (it builds on the classes above)

__all__ = [
    "Channel", "LocalChannel", "SSHChannel", "Launcher", "SingleNodeLauncher", "SimpleLauncher", "SrunLauncher",
    "ExecutionProvider", "LocalProvider", "AdHocProvider", "SlurmProvider",
]
