"""Parsl's ``SlurmProvider``: blocks as Slurm batch jobs whose managers connect back to the engine
over TLS, which the engine terminates itself (see :mod:`sprig.connector` and PROTOCOL.md,
"Connect-back"). Like every config object it only describes; ``to_spec()`` gives the dict the
engine loads.
"""

from __future__ import annotations

import re

from sprig.config_checks import _check_int, _check_number, _check_str, _take_parsl_options
from sprig.errors import ConfigurationError
from sprig.providers import ExecutionProvider, Launcher, SimpleLauncher, SingleNodeLauncher, SrunLauncher

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_WALLTIME = re.compile(r"^(\d+-)?(\d+:){0,2}\d+$")


class SlurmProvider(ExecutionProvider):
    """Blocks as Slurm jobs, with Parsl's parameters and defaults (except ``launcher``: an
    :class:`SrunLauncher` by default).

    Each block is one ``sbatch`` job of ``nodes_per_block`` nodes, one manager per node (the
    executor's status lists each node's manager as a block), asking ``walltime`` (``"HH:MM:SS"``); ``partition``, ``account``, ``qos``,
    ``constraint``, ``clusters``, ``exclusive``, ``cores_per_node`` (``--cpus-per-task``) and
    ``mem_per_node`` (GB, ``--mem``) become ``#SBATCH`` lines, ``scheduler_options`` are added as
    they are, ``worker_init`` runs in the job before the manager. The job's manager connects back to
    the executor's ``address`` (``HighThroughputExecutor(address=..., worker_port_range=...)``),
    proving the run's secret over TLS; Sprig's code travels through that connection, so the nodes
    need only a ``python3`` of the same minor version. ``cmd_timeout`` bounds every scheduler
    command; ``regex_job_id`` finds the job id in sbatch's output.

    Parsl options accepted and ignored silently: ``channel``, ``move_files``.
    """

    PARSL_OPTIONS: dict[str, Any] = {"channel": "silent", "move_files": "silent"}
    _repr_fields = ("partition", "nodes_per_block", "walltime", "init_blocks", "min_blocks", "max_blocks", "launcher")

    def __init__(self, partition: str | None = None, account: str | None = None, qos: str | None = None,
                 constraint: str | None = None, clusters: str | None = None, nodes_per_block: int = 1,
                 cores_per_node: int | None = None, mem_per_node: float | None = None, init_blocks: int = 1,
                 min_blocks: int = 0, max_blocks: int = 1, parallelism: float = 1, walltime: str = "00:10:00",
                 scheduler_options: str = "", regex_job_id: str = r"Submitted batch job (?P<id>\S*)",
                 worker_init: str = "", exclusive: bool = True, launcher: Launcher | None = None,
                 cmd_timeout: int = 10, **parsl_options: Any) -> None:
        owner = "SlurmProvider"
        super().__init__(owner, init_blocks, min_blocks, max_blocks, worker_init)
        for name, value in (("partition", partition), ("account", account), ("qos", qos),
                            ("constraint", constraint), ("clusters", clusters)):
            setattr(self, name, _check_str(owner, name, value, allow_none=True))
        self.nodes_per_block = _check_int(owner, "nodes_per_block", nodes_per_block, 1)
        self.cores_per_node = None if cores_per_node is None else _check_int(owner, "cores_per_node", cores_per_node, 1)
        self.mem_per_node = None if mem_per_node is None else _check_number(owner, "mem_per_node", mem_per_node, positive=True)
        self.parallelism = _check_number(owner, "parallelism", parallelism)
        self.walltime = _check_str(owner, "walltime", walltime)
        if not _WALLTIME.match(self.walltime):
            raise ConfigurationError(f"{owner}: walltime {walltime!r} is not a time like 'HH:MM:SS'")
        self.scheduler_options = _check_str(owner, "scheduler_options", scheduler_options)
        self.regex_job_id = _check_str(owner, "regex_job_id", regex_job_id)
        try:
            re.compile(self.regex_job_id)
        except re.error as exc:
            raise ConfigurationError(f"{owner}: regex_job_id {regex_job_id!r} is not a regular expression: {exc}") from None
        self.exclusive = bool(exclusive)
        launcher = SrunLauncher() if launcher is None else launcher
        if not isinstance(launcher, (SrunLauncher, SingleNodeLauncher, SimpleLauncher)):
            raise ConfigurationError(f"{owner}: launcher {type(launcher).__name__} cannot start a Slurm block here; "
                                     "use SrunLauncher, SingleNodeLauncher or SimpleLauncher")
        if self.nodes_per_block > 1 and isinstance(launcher, SimpleLauncher):
            raise ConfigurationError(f"{owner}: SimpleLauncher starts one manager, but nodes_per_block is {nodes_per_block}; "
                                     "use SrunLauncher (one manager per node)")
        self.launcher = launcher
        self.cmd_timeout = _check_int(owner, "cmd_timeout", cmd_timeout, 1)
        self.parsl_options = _take_parsl_options(owner, parsl_options, self.PARSL_OPTIONS,
                                                 "Sprig submits with sbatch on this machine")

    def to_spec(self) -> dict[str, Any]:
        return {"kind": "slurm", "partition": self.partition, "account": self.account, "qos": self.qos,
                "constraint": self.constraint, "clusters": self.clusters, "nodes_per_block": self.nodes_per_block,
                "cores_per_node": self.cores_per_node,
                "mem_per_node": None if self.mem_per_node is None else float(self.mem_per_node),
                "exclusive": self.exclusive, **self._block_spec(), "parallelism": float(self.parallelism),
                "walltime": self.walltime, "scheduler_options": self.scheduler_options,
                "regex_job_id": self.regex_job_id, "cmd_timeout": self.cmd_timeout,
                "launcher": self.launcher.to_spec()}


__all__ = ["SlurmProvider"]
