"""``LocalProvider.submit`` / ``status`` / ``cancel`` called directly (Parsl's provider interface),
outside any config: a job is the command, through the provider's launcher (one of
``parsl.launchers``), run by ``/bin/bash``
from a script in ``provider.script_dir``, in a process group of its own, with its stdout and
stderr in files beside the script.

A loaded config never uses these: its blocks are started, watched and stopped by the engine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time

from sprig.process_tree import signal_group, stat_fields

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _Job:
    def __init__(self, process: subprocess.Popen[bytes], stdout: str, stderr: str) -> None:
        self.process = process
        self.stdout = stdout
        self.stderr = stderr
        self.cancelled = False


class LocalJobs:
    """The jobs one provider object started; threading: any thread."""

    def __init__(self) -> None:
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._count = 0
        self._folder: str | None = None  # made when a job is started without a script_dir

    def submit(self, provider: Any, command: str, tasks_per_node: int, job_name: str) -> str:
        """Starts ``command`` (``tasks_per_node`` copies when the launcher runs several); returns
        the job id (the process id of its bash, as text)."""
        launcher = getattr(provider, "launcher", None) or provider.parsl_options.get("launcher")
        # parsl.launchers' launchers give their shell text when called; Sprig's own descriptions
        # (sprig.providers) do not, and the command then runs once, as with no launcher.
        text = launcher(command, tasks_per_node, 1) if callable(launcher) else command
        folder = getattr(provider, "script_dir", None)
        if not folder:  # one folder per provider object for its scripts and outputs, not one per job
            with self._lock:
                if self._folder is None:
                    self._folder = tempfile.mkdtemp(prefix="sprig-jobs-")
                folder = self._folder
        os.makedirs(folder, exist_ok=True)
        with self._lock:
            self._count += 1
            stem = os.path.join(folder, f"{job_name}.{time.time():.3f}.{self._count}")
        script = stem + ".sh"
        with open(script, "w", encoding="utf-8") as file:
            file.write(f"#!/bin/bash\n{provider.worker_init}\n{text}\n")
        stdout, stderr = stem + ".stdout", stem + ".stderr"
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            process = subprocess.Popen(["/bin/bash", script], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                       start_new_session=True, close_fds=True)
        job_id = str(process.pid)
        with self._lock:
            self._jobs[job_id] = _Job(process, stdout, stderr)
        return job_id

    def status(self, job_ids: list[Any]) -> list[Any]:
        """A ``JobStatus`` per id: RUNNING, then COMPLETED (exit 0), FAILED (another exit), or
        CANCELLED; MISSING with a message for an id this provider did not start."""
        from sprig.executor_status import _job_states

        states = _job_states()
        JobState, JobStatus = states.JobState, states.JobStatus
        statuses = []
        for job_id in job_ids:
            with self._lock:
                job = self._jobs.get(str(job_id))
            if job is None:
                statuses.append(JobStatus(JobState.MISSING, message=f"job {job_id} was not started by this provider"))
                continue
            code = job.process.poll()
            if code is None:
                statuses.append(JobStatus(JobState.RUNNING, stdout_path=job.stdout, stderr_path=job.stderr))
                continue
            state = JobState.CANCELLED if job.cancelled else JobState.COMPLETED if code == 0 else JobState.FAILED
            statuses.append(JobStatus(state, exit_code=code, stdout_path=job.stdout, stderr_path=job.stderr))
        return statuses

    def cancel(self, job_ids: list[Any]) -> list[bool]:
        """Ends each job's process group (SIGTERM, then SIGKILL after 2 s) and reaps it; True for
        each job this provider had started."""
        done = []
        for job_id in job_ids:
            with self._lock:
                job = self._jobs.get(str(job_id))
            if job is None:
                done.append(False)
                continue
            if job.process.poll() is None:
                job.cancelled = True
                signal_group(job.process.pid, signal.SIGTERM)
                deadline = time.monotonic() + 2
                while (job.process.poll() is None or group_alive(job.process.pid)) and time.monotonic() < deadline:
                    time.sleep(0.01)  # waiting for processes that are not ours to reap
                if group_alive(job.process.pid) or job.process.poll() is None:
                    signal_group(job.process.pid, signal.SIGKILL)
                job.process.wait()
            done.append(True)
        return done


def group_alive(group: int) -> bool:
    """Whether a process of process group ``group`` still runs (zombies, which only wait to be
    reaped, do not count). Its members need not be this process's children: all of /proc is read."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(entry)
            if fields is not None and len(fields) > 2 and fields[0] not in ("Z", "X") and int(fields[2]) == group:
                return True
    return False
