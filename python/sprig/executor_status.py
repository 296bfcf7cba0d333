"""What a loaded process executor reports of its blocks, with Parsl's method names:
``connected_blocks()``, ``connected_managers()``, ``connected_managers_packages()``,
``status()``, ``scale_in()``/``scale_out()``, ``workers_per_node`` and ``bad_state_is_set``.

The engine keeps the blocks; these ask it (``_sprig_engine.executor_status``, whose dict
docs/SCRIPTING-CONTRACT.md describes) and shape the answer as Parsl does. Before a config
holding the executor is loaded, there are no blocks: the lists are empty and
``workers_per_node`` raises :class:`AttributeError`.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from typing import Any


def _engine_status(label: str) -> dict[str, Any] | None:
    """The engine's status dict for executor ``label``, or None when no config holding it is loaded."""
    from sprig import api

    try:
        engine = api._engine()
    except Exception:
        return None
    if not engine.loaded():
        return None
    return engine.executor_status(label)


def _job_states() -> Any:
    """Parsl's ``parsl.jobs.states`` as scripts import it (one module object, so that
    ``isinstance`` checks in scripts hold)."""
    try:
        import parsl.jobs.states as states  # type: ignore[import-not-found]
    except ImportError:  # the compatibility folder is not on sys.path: a Swift program's interpreter
        from sprig.compat.parsl.jobs import states  # type: ignore[no-redef]
    return states


def _manager_id(block: dict[str, Any]) -> str:
    pids = block.get("pids") or []
    return f"{block['host']}:{pids[0]}" if pids else f"{block['host']}:block-{block['number']}"


class _BadState:
    """Parsl's ``executor._executor_bad_state`` event, read from the engine (``is_set()`` only)."""

    def __init__(self, label: str) -> None:
        self._label = label

    def is_set(self) -> bool:
        status = _engine_status(self._label)
        return bool(status and status.get("broken"))


class BlockStatusQueries:
    """Parsl's block and manager queries for an executor with a ``label`` (mixed into
    :class:`~sprig.executors.HighThroughputExecutor`)."""

    label: str

    @property
    def workers_per_node(self) -> int | float:
        """The most workers a block may run by the settings alone, as Parsl reports it: the fewest
        of ``max_workers_per_node``, the provider's ``cores_per_node`` over ``cores_per_worker``,
        its ``mem_per_node`` over ``mem_per_worker`` and the number of ``available_accelerators``
        (``inf`` when none of them is set). A block runs at most this many, and no more than its
        node's cores allow. Known once the config is loaded."""
        status = _engine_status(self.label)
        if status is None:
            raise AttributeError(f"workers_per_node of executor {self.label!r} is known once a config holding it is loaded")
        limit = status.get("worker_limit")
        return float("inf") if limit is None else int(limit)

    @property
    def _executor_bad_state(self) -> _BadState:
        return _BadState(self.label)

    def bad_state_is_set(self) -> bool:
        """Whether the executor gave up starting blocks (tasks then fail with ``BadStateException``)."""
        return self._executor_bad_state.is_set()

    @property
    def executor_exception(self) -> Exception | None:
        """Why the executor is in a bad state, as an exception; None while it works."""
        status = _engine_status(self.label)
        if not status or not status.get("broken"):
            return None
        from sprig.errors import BadStateException

        return BadStateException(self, status["broken"])

    def outstanding(self) -> int:
        """Tasks handed to this executor and not yet ended (0 before the config is loaded)."""
        status = _engine_status(self.label)
        return int(status["outstanding"]) if status else 0

    def connected_blocks(self) -> list[str]:
        """The ids of every block of this run that connected, ended ones included (Parsl's list)."""
        status = _engine_status(self.label)
        if status is None:
            return []
        return [str(n) for n in status["connected"]]

    def connected_managers(self) -> list[dict[str, Any]]:
        """One dict per connected manager, with Parsl's keys: ``manager``, ``block_id``,
        ``worker_count``, ``tasks``, ``idle_duration``, ``active``, ``draining``,
        ``parsl_version``, ``python_version``."""
        status = _engine_status(self.label)
        if status is None:
            return []
        from sprig.compat.parsl.version import VERSION

        managers = []
        for block in status["blocks"]:
            if block["phase"] == "starting":
                continue
            managers.append({
                "manager": _manager_id(block),
                "block_id": str(block["number"]),
                "worker_count": block["workers"],
                "tasks": block["outstanding"],
                "idle_duration": block.get("idle") or 0.0,
                "active": block["phase"] == "ready",
                "draining": block["phase"] == "draining",
                "parsl_version": VERSION,
                "python_version": block.get("python_version"),
            })
        return managers

    def connected_managers_packages(self) -> dict[str, dict[str, str]]:
        """For each connected manager, the packages it runs with. Sprig ships its own code with
        every block, so this is the Parsl API version Sprig serves (``parsl``) and Sprig's own."""
        from sprig import __version__
        from sprig.compat.parsl.version import VERSION

        return {m["manager"]: {"parsl": VERSION, "sprig": __version__} for m in self.connected_managers()}

    def status(self) -> dict[str, Any]:
        """``{block_id: JobStatus}``: the latest block of each provider slot. A block that ended
        without connecting is ``MISSING``, one stopped on purpose ``SCALED_IN``, one lost after
        connecting ``FAILED``; live ones are ``RUNNING`` (a local or SSH block's process runs from
        its start; it may not have connected yet)."""
        engine_status = _engine_status(self.label)
        if engine_status is None:
            return {}
        states = _job_states()
        latest: dict[str, Any] = {}
        for ended in engine_status["ended"]:
            if not ended["connected"]:
                state, message = states.JobState.MISSING, ended.get("failure")
            elif ended.get("failure") is None:
                state, message = states.JobState.SCALED_IN, None
            else:
                state, message = states.JobState.FAILED, ended.get("failure")
            latest[str(ended["number"])] = states.JobStatus(state, message=message)
        for block in engine_status["blocks"]:
            latest[str(block["number"])] = states.JobStatus(states.JobState.RUNNING)
        shown = _latest_per_slot(engine_status, latest)
        # A slot whose blocks never started (its provider's submit raised) shows its last try as MISSING.
        started = {block["slot"] for block in list(engine_status["ended"]) + list(engine_status["blocks"])}
        for slot, message in engine_status.get("start_failures", {}).items():
            if int(slot) not in started:
                number = _FAILED_BLOCK.match(message)
                shown[number.group(1) if number else str(slot)] = states.JobStatus(states.JobState.MISSING, message=message)
        return shown

    def scale_in(self, blocks: int, max_idletime: float | None = None) -> list[str]:
        """Stops up to ``blocks`` blocks, idle ones first; returns their ids. ``max_idletime`` is
        accepted for Parsl's signature: Sprig stops idle blocks first anyway."""
        return self._scale("in", blocks)

    def scale_out(self, blocks: int = 1) -> list[str]:
        """Starts up to ``blocks`` more blocks (within the provider's slots); returns their ids."""
        return self._scale("out", blocks)

    def _scale(self, direction: str, blocks: int) -> list[str]:
        from sprig import api

        return [str(n) for n in api._loaded_engine().scale(self.label, direction, int(blocks))]


#: How the engine words a start failure (``HighThroughputRuntime.startBlock``): it names the block.
_FAILED_BLOCK = re.compile(r"block (\d+) could not start")


def _latest_per_slot(status: dict[str, Any], by_block: dict[str, Any]) -> dict[str, Any]:
    """Keeps, of ``by_block``, the newest block of each provider slot: a slot whose block was
    started again after failures shows as one block, as one Parsl job would."""
    newest: dict[int, int] = {}
    for block in list(status["ended"]) + list(status["blocks"]):
        newest[block["slot"]] = max(newest.get(block["slot"], -1), block["number"])
    keep = {str(n) for n in newest.values()}
    return {k: v for k, v in by_block.items() if k in keep}
