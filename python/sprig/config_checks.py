"""Argument checks shared by the config objects (:mod:`sprig.config`, :mod:`sprig.executors`,
:mod:`sprig.providers`): types and ranges, Parsl options accepted with or without a warning, and
the ``repr`` that shows what differs from the defaults.

A wrong type raises ``TypeError``, a value out of range :class:`sprig.errors.ConfigurationError`,
an unknown keyword ``TypeError`` naming it (with a "did you mean" hint from ``_SUPPORTED``).
"""

from __future__ import annotations

import os

from sprig.errors import ConfigurationError, SprigWarning

TYPE_CHECKING = False  # (not importing typing keeps start-up fast)
if TYPE_CHECKING:
    from collections.abc import Callable
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
    "Config": ("executors", "retries", "run_dir", "strategy", "max_idletime", "exit_mode", "monitoring"),
    "ThreadPoolExecutor": ("label", "max_threads"),
    "HighThroughputExecutor": ("label", "provider", "max_workers_per_node", "max_workers", "cores_per_worker",
                               "worker_debug", "heartbeat_period", "heartbeat_threshold", "prefetch_capacity",
                               "worker_logdir_root", "cpu_affinity", "mem_per_worker", "available_accelerators",
                               "drain_period", "launch_cmd"),
    "LocalProvider": ("channel", "init_blocks", "min_blocks", "max_blocks", "worker_init"),
    "LocalChannel": (),
    "SSHChannel": ("hostname", "username", "port", "script_dir", "key_filename", "host_keys_filename",
                   "config_file", "ssh_options", "python", "multiplex"),
    "AdHocProvider": ("channels", "worker_init", "cores_per_host"),
}
