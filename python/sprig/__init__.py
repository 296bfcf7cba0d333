"""The Python side of Sprig: the API scripts use under ``sprig run``, and what Python apps and
worker processes use.

Importing this package is cheap and has no side effects; it needs only the standard library.
The script API (``python_app``, ``bash_app``, ``join_app``, ``load``, ``Config``, ...) is imported
on first use, from :mod:`sprig.api`, :mod:`sprig.config`, :mod:`sprig.futures` and
:mod:`sprig.errors`.
"""

from sprig.files import File

__version__ = "0.2.0"

# name → module it comes from (imported on first access).
_LAZY = {
    "python_app": "sprig.api",
    "bash_app": "sprig.api",
    "join_app": "sprig.api",
    "load": "sprig.api",
    "clear": "sprig.api",
    "dfk": "sprig.api",
    "wait_for_current_tasks": "sprig.api",
    "DataFlowKernel": "sprig.api",
    "Config": "sprig.config",
    "ThreadPoolExecutor": "sprig.config",
    "HighThroughputExecutor": "sprig.config",
    "LocalProvider": "sprig.config",
    "LocalChannel": "sprig.config",
    "AdHocProvider": "sprig.config",
    "SSHChannel": "sprig.config",
    "AppFuture": "sprig.futures",
    "DataFuture": "sprig.futures",
}

__all__ = ["File", *_LAZY]


def __getattr__(name: str) -> object:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'sprig' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
