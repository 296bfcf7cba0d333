"""Starting one worker process of a manager: ``sys.executable -m sprig.worker`` with its command
line, its environment (this sprig first on ``PYTHONPATH``, Parsl's ``PARSL_WORKER_*`` variables,
the OpenMP ones when it is pinned to CPUs) and two pipes (tasks to its stdin, results from its
stdout; its stderr on the worker log, if any).

:class:`sprig.worker_pool.WorkerPool` calls :func:`start_worker` and keeps the pipes' other ends.
"""

from __future__ import annotations

import os
import signal
import sys

from sprig import affinity
from sprig import protocol as P

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from sprig.manager_options import Options


#: glibc's malloc settings for workers of a local block (large buffers below 4 MiB come from the
#: heap and up to 16 MiB of free heap is kept), unless the user set them.
MALLOC_TUNING = {"MALLOC_MMAP_THRESHOLD_": str(4 << 20), "MALLOC_TRIM_THRESHOLD_": str(16 << 20)}
#: Set beside them: the worker removes all three from its environment (its commands never see them).
MALLOC_TUNED = "SPRIG_MALLOC_TUNED"


def base_environment() -> dict[str, str]:
    """The environment every worker of this manager starts from: the manager's own, with
    ``PYTHONUTF8`` as this interpreter runs and the folder holding this sprig on ``PYTHONPATH``."""
    env = dict(os.environ)
    if sys.flags.utf8_mode:
        env["PYTHONUTF8"] = "1"  # workers decode and print text as this manager does
    here = getattr(P, "__file__", None)
    if here:
        root = os.path.dirname(os.path.dirname(os.path.abspath(here)))
        paths = env.get("PYTHONPATH", "")
        if root not in paths.split(os.pathsep):
            env["PYTHONPATH"] = root + (os.pathsep + paths if paths else "")
    return env


def cpus_of(options: Options, index: int) -> list[int] | None:
    """The CPUs worker ``index`` is pinned to, or None when workers are not pinned."""
    plan = options.worker_cpus
    return None if plan is None else plan[index]


def environment_of(base: dict[str, str], options: Options, pool_id: str, index: int) -> dict[str, str]:
    """The environment of worker ``index``: ``base``, plus Parsl's worker variables, when it is
    pinned the OpenMP ones for its CPUs, and with accelerators the device variables for its own."""
    env = dict(base)
    if options.shared_memory is not None and not any(name in env for name in MALLOC_TUNING):
        # Large buffers are read into fresh memory for every task: keep glibc from mapping and
        # unmapping each (256 page faults per MiB); the worker drops these before running anything.
        env.update(MALLOC_TUNING)
        env[MALLOC_TUNED] = "1"
    env["PARSL_WORKER_RANK"] = str(index)
    env["PARSL_WORKER_COUNT"] = str(options.workers)
    env["PARSL_WORKER_POOL_ID"] = pool_id
    env["PARSL_WORKER_BLOCK_ID"] = options.block_id
    cpus = cpus_of(options, index)
    if cpus is not None:
        env.update(affinity.openmp_environment(cpus))
    if options.accelerators:
        # As Parsl's workers do (without its splitting of one CUDA device among several workers).
        device = options.accelerators[index % len(options.accelerators)]
        env["CUDA_VISIBLE_DEVICES"] = device
        env["ROCR_VISIBLE_DEVICES"] = device
        env["ZE_AFFINITY_MASK"] = device
        env["ZE_ENABLE_PCI_ID_DEVICE_ORDER"] = "1"
    return env


def argv_of(options: Options, index: int) -> list[str]:
    """The command line of worker ``index`` (see :mod:`sprig.worker`)."""
    argv = [sys.executable, "-m", "sprig.worker", "--index", str(index), "--manager-pid", str(os.getpid()),
            "--heartbeat-period", repr(options.heartbeat_period)]
    if options.worker_debug:
        argv.append("--debug")
    if options.resource_interval is not None:
        argv += ["--resource-interval", repr(options.resource_interval)]
    if options.shared_memory is not None:
        argv += ["--shared-memory", options.shared_memory]
    cpus = cpus_of(options, index)
    if cpus is not None:
        argv += ["--cpus", ",".join(str(cpu) for cpu in cpus)]
    return argv


def _widen_pipe(fd: int) -> None:
    """Asks for a 1 MiB pipe buffer (Linux): large payloads then cross in a few writes, not 16+."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass


def start_worker(options: Options, index: int, base_env: dict[str, str], pool_id: str,
                 log_fd: int | None) -> tuple[int, int, int]:
    """Starts worker ``index`` connected by two pipes, its stderr on ``log_fd`` when given (else
    the manager's); returns ``(pid, task_w, result_r)``: its pid and the manager's ends of its
    stdin and its result pipe, both non-blocking. OSError if it cannot be started."""
    task_r, task_w = os.pipe()
    result_r, result_w = os.pipe()
    for fd in (task_w, result_w):
        _widen_pipe(fd)
    actions = [(os.POSIX_SPAWN_DUP2, task_r, 0), (os.POSIX_SPAWN_DUP2, result_w, 1)]
    if log_fd is not None:
        actions.append((os.POSIX_SPAWN_DUP2, log_fd, 2))
    try:
        pid = os.posix_spawn(
            sys.executable,
            argv_of(options, index),
            environment_of(base_env, options, pool_id, index),
            file_actions=actions,
            setsigmask=(),
            setsigdef=(signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD),
        )
    except OSError:
        os.close(task_w)
        os.close(result_r)
        raise
    finally:
        os.close(task_r)
        os.close(result_w)
    os.set_blocking(task_w, False)
    os.set_blocking(result_r, False)
    return pid, task_w, result_r
