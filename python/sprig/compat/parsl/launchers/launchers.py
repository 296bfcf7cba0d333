"""Parsl's launchers, served by Sprig: each turns a block's command into the shell text that starts
it ``tasks_per_node * nodes_per_block`` times.

On this machine Sprig starts one manager per block itself, so ``LocalProvider`` needs no launcher:
:class:`SingleNodeLauncher` (Parsl's default) and :class:`SimpleLauncher` describe what Sprig
does anyway. The others are for batch schedulers (Slurm, PBS, Cray, LSF, MPI) that Sprig does not
drive yet; they are complete values — calling one gives the script text Parsl's launcher of the
same name would run — for configs and tools that build them.

Launchers that run the command through a tool (``srun``, ``aprun``, ``jsrun``, ``mpiexec``,
``mpirun``, GNU ``parallel``) first write it, verbatim, to ``cmd_<job name>.sh`` in
``script_dir`` (or the current folder when ``script_dir`` is not a folder). The job name is
``$SLURM_JOB_NAME`` for the Slurm launchers and ``$JOBNAME`` (set by a provider's submit script)
for the others. The command's own ``$VARIABLES`` are expanded when each copy runs, not when the
file is written.
"""

from __future__ import annotations

import logging

from sprig.config import SimpleLauncher as _SprigSimpleLauncher
from sprig.config import SingleNodeLauncher as _SprigSingleNodeLauncher
from sprig.config import SrunLauncher as _SprigSrunLauncher

from parsl.launchers.base import Launcher

_log = logging.getLogger(__name__)

#: Ends the here-document that writes a command to its script file (quoted: nothing is expanded).
_END = "SPRIG_LAUNCHER_COMMAND_EOF"


def _debug_lines(debug: bool, *lines: str) -> list[str]:
    return list(lines) if debug else []


def _script_file(command: str, script_dir: str, job_name: str) -> list[str]:
    """Lines that write ``command`` to ``$CMD_SCRIPT`` and make it executable."""
    import shlex

    return [
        f"SCRIPT_DIR={shlex.quote(script_dir)}",
        '[ -d "$SCRIPT_DIR" ] || SCRIPT_DIR=""',
        f'CMD_SCRIPT="${{SCRIPT_DIR:+$SCRIPT_DIR/}}cmd_{job_name}.sh"',
        f"cat > \"$CMD_SCRIPT\" << '{_END}'",
        command,
        _END,
        'chmod u+x "$CMD_SCRIPT"',
    ]


def _host_file(variable: str) -> list[str]:
    """Lines that write the block's distinct hosts (from ``$PBS_NODEFILE``, else ``localhost``) to
    the file named by ``$variable``."""
    return [
        f'{variable}="$JOBNAME.nodes"',
        'if [ -n "$PBS_NODEFILE" ]; then',
        f'    sort -u "$PBS_NODEFILE" > "${variable}"',
        "else",
        f'    echo localhost > "${variable}"',
        "fi",
    ]


def _words(*parts: str) -> str:
    """``parts`` joined by spaces, leaving out empty ones (an unset ``overrides``)."""
    return " ".join(part for part in parts if part)


def _script(*groups: list[str]) -> str:
    return "\n".join(line for group in groups for line in group) + "\n"


def _node_cores(debug: bool) -> list[str]:
    return ["export CORES=$(getconf _NPROCESSORS_ONLN)", *_debug_lines(debug, 'echo "Found cores : $CORES"')]


def _slurm_cores(debug: bool) -> list[str]:
    return ["export CORES=$SLURM_CPUS_ON_NODE", "export NODES=$SLURM_JOB_NUM_NODES",
            *_debug_lines(debug, 'echo "Found cores : $CORES"', 'echo "Found nodes : $NODES"')]


class SimpleLauncher(Launcher, _SprigSimpleLauncher):
    """The command as it is: one copy per block (a warning is logged when more nodes are asked for)."""

    def __init__(self, debug: bool = True) -> None:
        super().__init__(debug=debug)

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        if nodes_per_block > 1:
            _log.warning("SimpleLauncher starts one copy of the command, on one node; %d nodes per block "
                         "were asked for, so there may be fewer workers than expected", nodes_per_block)
        return command


class WrappedLauncher(Launcher):
    """The command with ``prepend`` in front (``prepend='time'``, a container runner, ...): one
    copy per block, whatever the task and node counts (a warning is logged when they exceed 1)."""

    def __init__(self, prepend: str, debug: bool = True) -> None:
        super().__init__(debug=debug)
        self.prepend = prepend

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        if tasks_per_node > 1 or nodes_per_block > 1:
            _log.warning("WrappedLauncher starts one copy of the command (asked for %d tasks per node on %d "
                         "nodes), so there may be fewer workers than expected", tasks_per_node, nodes_per_block)
        return f"{self.prepend} {command}"


class SingleNodeLauncher(Launcher, _SprigSingleNodeLauncher):
    """``tasks_per_node * nodes_per_block`` copies of the command in parallel on this node, each
    given its number (1, 2, ...) as ``$1``, with ``$CORES`` set to the node's core count.

    The script exits when every copy has: with ``fail_on_any=False`` (default) it fails only when
    all copies failed; with ``fail_on_any=True`` when any did. This is what Sprig's
    ``LocalProvider`` does with a block (one manager), so it is accepted there silently.
    """

    def __init__(self, debug: bool = True, fail_on_any: bool = False) -> None:
        super().__init__(debug=debug)
        self.fail_on_any = fail_on_any

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        copies = tasks_per_node * nodes_per_block
        return _script(
            ["set -e"],
            _node_cores(self.debug),
            [f"WORKERCOUNT={copies}", f"FAILONANY={int(bool(self.fail_on_any))}", "", "CMD() {", command, "}", "",
             'PIDS=""', 'for COUNT in $(seq 1 "$WORKERCOUNT"); do'],
            _debug_lines(self.debug, '    echo "Launching worker: $COUNT"'),
            ['    CMD "$COUNT" &', '    PIDS="$PIDS $!"', "done", "",
             "ANYFAILED=0", "ALLFAILED=1", "for PID in $PIDS; do",
             '    if wait "$PID"; then ALLFAILED=0; else ANYFAILED=1; fi', "done"],
            _debug_lines(self.debug, 'echo "All workers done"'),
            ['if [ "$FAILONANY" = 1 ]; then exit "$ANYFAILED"; fi', 'exit "$ALLFAILED"'],
        )


class GnuParallelLauncher(Launcher):
    """The copies run by GNU ``parallel`` over ssh on the block's hosts (``$PBS_NODEFILE``, else
    ``localhost``), ``tasks_per_node`` at a time on each; needs ``parallel`` on the ``PATH`` and
    password-less ssh between the nodes. The job log is ``$JOBNAME.sh.parallel.log``."""

    def __init__(self, debug: bool = True) -> None:
        super().__init__(debug=debug)

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        copies = tasks_per_node * nodes_per_block
        return _script(
            ["set -e"], _node_cores(self.debug), [f"WORKERCOUNT={copies}"],
            _host_file("SSHLOGINFILE"),
            _script_file(command, script_dir, "$JOBNAME"),
            ['PFILE="$CMD_SCRIPT.parallel"', ': > "$PFILE"',
             'for COUNT in $(seq 1 "$WORKERCOUNT"); do', '    echo "sh $CMD_SCRIPT" >> "$PFILE"', "done",
             f'parallel --env _ --joblog "$JOBNAME.sh.parallel.log" --sshloginfile "$SSHLOGINFILE" '
             f'--jobs {tasks_per_node} < "$PFILE"'],
            _debug_lines(self.debug, 'echo "All workers done"'),
        )


class MpiExecLauncher(Launcher):
    """The copies run as one ``mpiexec`` job on the block's hosts (``$PBS_NODEFILE``, else
    ``localhost``): ``mpiexec <bind_cmd> none <overrides> -n <copies> --hostfile <hosts> /bin/sh
    <script>``. ``bind_cmd`` is the option that binds ranks to CPUs (``--bind-to``), here turned
    off; ``overrides`` are added to the ``mpiexec`` arguments as written."""

    def __init__(self, debug: bool = True, bind_cmd: str = "--bind-to", overrides: str = "") -> None:
        super().__init__(debug=debug)
        self.bind_cmd = bind_cmd
        self.overrides = overrides

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        copies = tasks_per_node * nodes_per_block
        return _script(
            ["set -e"], _node_cores(self.debug), [f"WORKERCOUNT={copies}"],
            _host_file("HOSTFILE"),
            _script_file(command, script_dir, "$JOBNAME"),
            [_words("mpiexec", self.bind_cmd, "none", self.overrides, '-n "$WORKERCOUNT" --hostfile "$HOSTFILE"',
                    '/bin/sh "$CMD_SCRIPT"')],
            _debug_lines(self.debug, 'echo "All workers done"'),
        )


class MpiRunLauncher(Launcher):
    """The copies run as one ``mpirun`` job: ``mpirun -np <copies> <overrides> <bash_location>
    <script>``."""

    def __init__(self, debug: bool = True, bash_location: str = "/bin/bash", overrides: str = "") -> None:
        super().__init__(debug=debug)
        self.bash_location = bash_location
        self.overrides = overrides

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        copies = tasks_per_node * nodes_per_block
        return _script(
            ["set -e"], _node_cores(self.debug), [f"WORKERCOUNT={copies}"],
            _script_file(command, script_dir, "$JOBNAME"),
            [_words('mpirun -np "$WORKERCOUNT"', self.overrides, self.bash_location, '"$CMD_SCRIPT"')],
            _debug_lines(self.debug, 'echo "All workers done"'),
        )


class SrunLauncher(Launcher, _SprigSrunLauncher):
    """The copies run as one Slurm job step inside the block's allocation: ``srun --ntasks
    <copies> -l <overrides> bash <script>``, with ``$CORES`` and ``$NODES`` from Slurm."""

    def __init__(self, debug: bool = True, overrides: str = "") -> None:
        super().__init__(debug=debug)
        self.overrides = overrides

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        copies = tasks_per_node * nodes_per_block
        return _script(
            ["set -e"], _slurm_cores(self.debug), [f"WORKERCOUNT={copies}"],
            _script_file(command, script_dir, "$SLURM_JOB_NAME"),
            [_words(f"srun --ntasks {copies} -l", self.overrides, 'bash "$CMD_SCRIPT"')],
            _debug_lines(self.debug, 'echo "Done"'),
        )


class SrunMPILauncher(Launcher):
    """One Slurm job step per copy, started together, for blocks that run several MPI
    applications at once. With more copies than nodes, each step gets an equal share of the
    allocation's cores (``srun --ntasks <share>``); otherwise an equal share of whole nodes
    (``srun --exclusive --nodes <share>``)."""

    def __init__(self, debug: bool = True, overrides: str = "") -> None:
        super().__init__(debug=debug)
        self.overrides = overrides

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        copies = tasks_per_node * nodes_per_block
        step = _words("-l", self.overrides, 'bash "$CMD_SCRIPT" &')
        return _script(
            ["set -e"], _slurm_cores(self.debug), [f"WORKERCOUNT={copies}"],
            _script_file(command, script_dir, "$SLURM_JOB_NAME"),
            [f"TASKBLOCKS={copies}", 'if [ "$TASKBLOCKS" -gt "$NODES" ]; then'],
            _debug_lines(self.debug, '    echo "TaskBlocks:$TASKBLOCKS > Nodes:$NODES"'),
            ["    CORES_PER_BLOCK=$(( NODES * CORES / TASKBLOCKS ))",
             '    for BLOCK in $(seq 1 "$TASKBLOCKS"); do',
             f'        srun --ntasks "$CORES_PER_BLOCK" {step}',
             "    done", "    wait", "else"],
            _debug_lines(self.debug, '    echo "TaskBlocks:$TASKBLOCKS <= Nodes:$NODES"'),
            ["    NODES_PER_BLOCK=$(( NODES / TASKBLOCKS ))",
             '    for BLOCK in $(seq 1 "$TASKBLOCKS"); do',
             f'        srun --exclusive --nodes "$NODES_PER_BLOCK" {step}',
             "    done", "    wait", "fi"],
            _debug_lines(self.debug, 'echo "Done"'),
        )


class _CountingToolLauncher(Launcher):
    """The copies run by a tool that takes the copy count and the copies per node: the script is
    written to a file, then ``<tool words> <overrides> /bin/bash <script>`` runs it."""

    def __init__(self, debug: bool = True, overrides: str = "") -> None:
        super().__init__(debug=debug)
        self.overrides = overrides

    def _tool(self, copies: int, tasks_per_node: int) -> str:
        raise NotImplementedError

    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        copies = tasks_per_node * nodes_per_block
        return _script(
            ["set -e", f"WORKERCOUNT={copies}"],
            _script_file(command, script_dir, "$JOBNAME"),
            [_words(self._tool(copies, tasks_per_node), self.overrides, '/bin/bash "$CMD_SCRIPT" &'), "wait"],
            _debug_lines(self.debug, 'echo "Done"'),
        )


class AprunLauncher(_CountingToolLauncher):
    """The copies run by Cray's ``aprun``: ``aprun -n <copies> -N <tasks_per_node> <overrides>
    /bin/bash <script>``."""

    def _tool(self, copies: int, tasks_per_node: int) -> str:
        return f"aprun -n {copies} -N {tasks_per_node}"


class JsrunLauncher(_CountingToolLauncher):
    """The copies run by IBM's ``jsrun`` (LSF): ``jsrun -n <copies> -r <tasks_per_node>
    <overrides> /bin/bash <script>``."""

    def _tool(self, copies: int, tasks_per_node: int) -> str:
        return f"jsrun -n {copies} -r {tasks_per_node}"


__all__ = ["SimpleLauncher", "WrappedLauncher", "SingleNodeLauncher", "GnuParallelLauncher", "MpiExecLauncher",
           "MpiRunLauncher", "SrunLauncher", "SrunMPILauncher", "AprunLauncher", "JsrunLauncher"]
