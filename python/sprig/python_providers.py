"""Providers defined in Python (Parsl's provider interface: ``submit``, ``status``, ``cancel``),
driven by the engine.

A provider object whose class overrides ``LocalProvider.submit``/``status``/``cancel``, or any
object that is not one of Sprig's provider descriptions but has the three methods, is kept here
under a key; the executor's spec names the key (``{"kind": "python", "key": …}``) and the engine
calls back into this module for each block: :func:`submit` with a shell command that starts a
connector which dials the engine over TLS (as a Slurm block's does), :func:`status` every
``status_polling_interval``, :func:`cancel` when the block ends (scale-in, shutdown).

Each call turns what the provider raises or returns into plain values (text), so that a
provider's exception never crosses into the engine as anything but a message naming the class.
"""

from __future__ import annotations

import os
import threading

from sprig.errors import ConfigurationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_INTERFACE = ("submit", "status", "cancel")
#: Job states after which a job runs no more (Parsl's terminal states).
_ENDED = {"CANCELLED", "COMPLETED", "FAILED", "TIMEOUT", "MISSING", "SCALED_IN"}
#: Parsl's default ``status_polling_interval`` for providers that do not set one (seconds).
DEFAULT_POLLING_INTERVAL = 5.0

_lock = threading.Lock()
_providers: dict[str, Any] = {}
#: Per provider key, the job ids as the provider returned them, by their text.
_jobs: dict[str, dict[str, Any]] = {}


def is_python_defined(provider: Any) -> bool:
    """Whether the engine must drive ``provider`` through its own methods: a ``LocalProvider``
    subclass overriding one of ``submit``/``status``/``cancel``, or another object with all three
    (Sprig's ``AdHocProvider`` and ``SlurmProvider`` descriptions have none)."""
    from sprig.providers import LocalProvider

    kind = type(provider)
    if not all(callable(getattr(provider, name, None)) for name in _INTERFACE):
        return False
    if isinstance(provider, LocalProvider):
        return any(getattr(kind, name) is not getattr(LocalProvider, name) for name in _INTERFACE)
    return True


def _number(owner: str, name: str, value: Any, default: float, minimum: float) -> float:
    value = default if value is None else value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ConfigurationError(f"{owner}: {name} is {value!r}; it must be a number of at least {minimum}")
    return value


def spec(provider: Any) -> dict[str, Any]:
    """The executor's provider spec for ``provider``, kept here under its key until the process ends."""
    owner = type(provider).__qualname__
    key = f"{owner}@{id(provider):x}"
    with _lock:
        _providers[key] = provider
        _jobs.setdefault(key, {})
    blocks = {name: int(_number(owner, name, getattr(provider, name, None), default, 0))
              for name, default in (("init_blocks", 1), ("min_blocks", 0), ("max_blocks", 1))}
    if blocks["min_blocks"] > blocks["max_blocks"]:
        raise ConfigurationError(f"{owner}: min_blocks ({blocks['min_blocks']}) is more than max_blocks ({blocks['max_blocks']})")
    nodes = getattr(provider, "nodes_per_block", None)
    if nodes is None:
        nodes = getattr(provider, "parsl_options", {}).get("nodes_per_block", 1)
    if nodes != 1:
        raise ConfigurationError(f"{owner}: nodes_per_block is {nodes!r}; a provider defined in Python runs one "
                                 "manager per block here (nodes_per_block=1)")
    cores = getattr(provider, "cores_per_node", None)
    memory = getattr(provider, "mem_per_node", None)
    return {"kind": "python", "key": key, "class": owner, **blocks,
            "parallelism": float(_number(owner, "parallelism", getattr(provider, "parallelism", None), 1, 0)),
            "status_polling_interval": float(_number(owner, "status_polling_interval",
                                                     getattr(provider, "status_polling_interval", None),
                                                     DEFAULT_POLLING_INTERVAL, 0)),
            "cores_per_node": None if cores is None else int(_number(owner, "cores_per_node", cores, 1, 1)),
            "mem_per_node": None if memory is None else float(_number(owner, "mem_per_node", memory, 1, 0))}


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def submit(key: str, command: str, tasks_per_node: int, job_name: str, run_dir: str = "") -> list[str]:
    """Calls the provider's ``submit``; returns ``["ok", job id as text]`` or ``["error", message]``.
    A provider without a ``script_dir`` gets ``<run_dir>/submit_scripts``, as Parsl sets it."""
    provider = _providers[key]
    owner = type(provider).__qualname__
    if run_dir and getattr(provider, "script_dir", None) is None:
        try:
            provider.script_dir = os.path.join(run_dir, "submit_scripts")
        except Exception:  # an object that refuses the attribute keeps its own folder
            pass
    try:
        job_id = provider.submit(command, tasks_per_node, job_name)
    except Exception as exc:
        return ["error", f"{owner}.submit raised {_describe(exc)}"]
    if job_id is None:
        return ["error", f"{owner}.submit returned None instead of a job id"]
    text = str(job_id)
    with _lock:
        _jobs[key][text] = job_id
    return ["ok", text]


def status(key: str, job_ids: list[str]) -> list[str] | str:
    """The provider's ``status`` of each job: ``""`` while it may still run, else how it ended
    (``"FAILED (exit code 1): message"``); or, when ``status`` raised or answered wrongly, the
    message saying so (a text instead of a list)."""
    provider = _providers[key]
    owner = type(provider).__qualname__
    with _lock:
        originals = [_jobs[key].get(job_id, job_id) for job_id in job_ids]
    try:
        statuses = list(provider.status(originals))
    except Exception as exc:
        return f"{owner}.status raised {_describe(exc)}"
    if len(statuses) != len(job_ids):
        return f"{owner}.status gave {len(statuses)} statuses for {len(job_ids)} jobs"
    answers = []
    for job_status in statuses:
        state = getattr(job_status, "state", None)
        name = getattr(state, "name", str(state))
        if name not in _ENDED:
            answers.append("")
            continue
        text = name
        code = getattr(job_status, "exit_code", None)
        if code is not None:
            text += f" (exit code {code})"
        message = getattr(job_status, "message", None) or _tail(getattr(job_status, "stderr_path", None))
        if message:
            text += f": {message}"
        answers.append(text)
    return answers


def _tail(path: Any, lines: int = 3) -> str:
    """The last lines of a job's stderr file, when the provider names one that can be read."""
    if not isinstance(path, str):
        return ""
    try:
        with open(path, "rb") as file:
            file.seek(0, 2)
            file.seek(max(0, file.tell() - 4096))
            text = file.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return " | ".join(line for line in text.strip().splitlines()[-lines:] if line.strip())


def cancel(key: str, job_ids: list[str]) -> str:
    """Calls the provider's ``cancel``; returns ``""``, or the message when it raised."""
    provider = _providers[key]
    with _lock:
        originals = [_jobs[key].get(job_id, job_id) for job_id in job_ids]
    try:
        provider.cancel(originals)
    except Exception as exc:
        return f"{type(provider).__qualname__}.cancel raised {_describe(exc)}"
    return ""


__all__ = ["is_python_defined", "spec", "submit", "status", "cancel"]
