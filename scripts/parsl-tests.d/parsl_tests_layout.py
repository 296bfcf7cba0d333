"""Where `parsl.tests` comes from when Parsl's tests run against Sprig's `parsl`.

Parsl's tests import themselves as `parsl.tests.…` (`from parsl.tests.configs.htex_local import
fresh_config`). Under `sprig run`, `parsl` is Sprig's compat package, which has no `tests`: this
module installs an import finder that answers for exactly two names and nothing else:

* `parsl.tests` — an empty package whose `__path__` is the extracted folder of Parsl's tests
  (`$SPRIG_PARSL_TESTS`). Parsl's own `parsl/tests/__init__.py` is not run: it only registers a
  memoization hook for `File` with `parsl.dataflow.memoization`, which Sprig does not have.
* `parsl.tests.configs` — an empty package whose `__path__` is this harness's `configs/` first
  (`local_threads`, `htex_local`, from Sprig's `parsl.configs`), then Parsl's own `configs/`
  (every other config, which then meets Sprig as it is).

Everything below those two packages is imported the ordinary way from those folders. The runner
installs the finder in the `sprig run` process; `site/sitecustomize.py` installs it in worker
processes, which unpickle test functions by reference (`parsl.tests.test_x.test_y.f`).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from types import ModuleType

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = os.path.join(HERE, "configs")
ENVIRONMENT = "SPRIG_PARSL_TESTS"  # the extracted `parsl/tests` folder


class _EmptyPackage(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        module.__doc__ = "Parsl's tests, extracted from the parsl wheel (see scripts/parsl-tests.d/parsl_tests_layout.py)."


class ParslTestsFinder(importlib.abc.MetaPathFinder):
    def __init__(self, tests: str) -> None:
        self.locations = {
            "parsl.tests": [tests],
            "parsl.tests.configs": [CONFIGS, os.path.join(tests, "configs")],
        }

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        locations = self.locations.get(fullname)
        if locations is None:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, _EmptyPackage(), is_package=True)
        spec.submodule_search_locations = list(locations)
        return spec


def install(tests: str | None = None) -> str | None:
    """Installs the finder (once) for `tests`, default `$SPRIG_PARSL_TESTS`; returns the folder,
    or None when it is not set."""
    tests = tests or os.environ.get(ENVIRONMENT)
    if not tests:
        return None
    if not any(isinstance(finder, ParslTestsFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, ParslTestsFinder(tests))
    return tests
