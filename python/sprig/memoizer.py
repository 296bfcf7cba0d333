"""App caching and checkpoint settings (Parsl's ``parsl.dataflow.memoization.BasicMemoizer``).

``Config(memoizer=BasicMemoizer(checkpoint_mode=..., checkpoint_files=..., checkpoint_period=...,
memoize=True))`` and the older ``Config(checkpoint_mode=..., checkpoint_files=...,
checkpoint_period=..., app_cache=True)`` mean the same; :func:`checkpoint_spec` turns either into the
``checkpoints`` object of the config spec. The engine does the caching (``Sources/Sprig/Checkpoints``):
this module only describes it, and :meth:`BasicMemoizer.checkpoint` asks the engine to write.

Modes: ``'task_exit'`` (each result is committed as its task ends), ``'periodic'`` (every
``checkpoint_period``, ``"HH:MM:SS"``), ``'dfk_exit'`` (at cleanup), ``'manual'``
(``dfk().checkpoint()`` or ``memoizer.checkpoint()``), ``None`` (nothing written). With a mode
and ``checkpoint_files=None``, a run starts with the results of every earlier run of the same
``run_dir`` (Parsl's rule, which is also Sprig's way to resume without naming files); a list of
``<run>/checkpoint`` folders (``parsl.utils.get_all_checkpoints()``, ``get_last_checkpoint()``)
loads those only, and ``[]`` none.

A subclass may override :meth:`BasicMemoizer.check_memo` (Parsl's plugin point): returning
``None`` makes that call run instead of reusing a result; ``super().check_memo(task_record)`` keeps
the normal lookup. Its other methods are Parsl's names for what the engine does, and do nothing here.
"""

from __future__ import annotations

from sprig.errors import ConfigurationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

MODES = ("task_exit", "periodic", "dfk_exit", "manual")

#: What :meth:`BasicMemoizer.check_memo` returns: "look the call up as usual".
LOOK_UP = object()


def period_seconds(period: str | None, owner: str = "BasicMemoizer") -> float | None:
    """``"HH:MM:SS"`` as seconds; None stays None. :class:`ConfigurationError` for anything else."""
    if period is None:
        return None
    try:
        hours, minutes, seconds = (int(part) for part in str(period).split(":"))
    except ValueError:
        raise ConfigurationError(f"{owner}: invalid checkpoint_period {period!r}, expected HH:MM:SS") from None
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise ConfigurationError(f"{owner}: checkpoint_period {period!r} must be longer than 0 seconds")
    return float(total)


def check_mode(mode: str | None, period: str | None, owner: str) -> None:
    if mode is not None and mode not in MODES:
        raise ConfigurationError(f"{owner}: checkpoint_mode must be one of {', '.join(map(repr, MODES))} or None, not {mode!r}")
    if mode == "periodic" and period is None:
        raise ConfigurationError(f"{owner}: checkpoint_mode='periodic' needs a checkpoint_period ('HH:MM:SS')")
    period_seconds(period, owner)


class Memoizer:
    """Parsl's interface between the kernel and a memoizer; :class:`BasicMemoizer` is the one
    Sprig's engine implements."""

    def check_memo(self, task_record: dict[str, Any]) -> Any:
        return LOOK_UP

    def update_memo_result(self, task_record: dict[str, Any], r: Any) -> None:
        """Done by the engine."""

    def update_memo_exception(self, task_record: dict[str, Any], e: BaseException) -> None:
        """Done by the engine."""

    def start(self, *, run_dir: str, config_run_dir: str) -> None:
        """Done by the engine when the config is loaded."""

    def close(self) -> None:
        """Done by the engine at cleanup."""


class BasicMemoizer(Memoizer):
    """The app cache and its checkpoints (see the module docstring)."""

    def __init__(self, *, checkpoint_files: Sequence[str] | None = None, checkpoint_period: str | None = None,
                 checkpoint_mode: str | None = None, memoize: bool = True) -> None:
        check_mode(checkpoint_mode, checkpoint_period, "BasicMemoizer")
        if checkpoint_files is not None and (isinstance(checkpoint_files, str)
                                             or not all(isinstance(f, str) for f in checkpoint_files)):
            raise TypeError("BasicMemoizer: checkpoint_files must be a list of folder paths (str) or None")
        self.checkpoint_files = list(checkpoint_files) if checkpoint_files is not None else None
        self.checkpoint_period = checkpoint_period
        self.checkpoint_mode = checkpoint_mode
        self.memoize = bool(memoize)

    def checkpoint(self) -> None:
        """Writes this run's results that are not written yet, and returns once they are
        (Parsl's manual checkpoint); nothing when no config using this memoizer is loaded."""
        from sprig import api

        kernel = api._current
        if kernel is not None and kernel._is_live():
            api._engine_module.checkpoint()

    def to_spec(self) -> dict[str, Any]:
        return {"memoize": self.memoize, "mode": self.checkpoint_mode, "files": self.checkpoint_files,
                "period": period_seconds(self.checkpoint_period)}

    @property
    def overrides_check_memo(self) -> bool:
        return type(self).check_memo is not Memoizer.check_memo

    def __repr__(self) -> str:
        return (f"BasicMemoizer(checkpoint_files={self.checkpoint_files!r}, checkpoint_period={self.checkpoint_period!r}, "
                f"checkpoint_mode={self.checkpoint_mode!r}, memoize={self.memoize!r})")


def from_config_options(memoizer: Any, options: dict[str, Any]) -> BasicMemoizer:
    """The config's memoizer: ``memoizer=`` if given, else one from the older spellings
    (``checkpoint_mode``, ``checkpoint_files``, ``checkpoint_period``, ``app_cache``)."""
    older = {name: options.pop(name) for name in ("checkpoint_mode", "checkpoint_files", "checkpoint_period", "app_cache")
             if name in options}
    if memoizer is not None:
        if not isinstance(memoizer, BasicMemoizer):
            raise TypeError(f"Config: memoizer must be a BasicMemoizer (parsl.dataflow.memoization), not {type(memoizer).__name__}")
        if any(value is not None and name != "app_cache" for name, value in older.items()):
            raise ConfigurationError("Config: give checkpoint settings either in memoizer=BasicMemoizer(...) or as "
                                     "checkpoint_mode/checkpoint_files/checkpoint_period, not both")
        return memoizer
    return BasicMemoizer(checkpoint_files=older.get("checkpoint_files"), checkpoint_period=older.get("checkpoint_period"),
                         checkpoint_mode=older.get("checkpoint_mode"), memoize=older.get("app_cache", True) is not False)


__all__ = ["BasicMemoizer", "Memoizer", "LOOK_UP", "MODES", "from_config_options", "period_seconds"]
