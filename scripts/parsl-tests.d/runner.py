"""Runs pytest on Parsl's tests inside `sprig run`, against Sprig's `parsl`.

    SPRIG_PARSL_TESTS=.parsl-tests/VERSION/parsl/tests \\
        sprig run scripts/parsl-tests.d/runner.py [PYTEST ARGS…]

Before pytest starts it checks that `parsl` is Sprig's compat package (never a real Parsl: exit
3 otherwise), makes `parsl.tests` resolve to the extracted tests (parsl_tests_layout.py), puts
site/ on `sys.path` so that worker processes do the same, and loads this harness's conftest
(parsl_conftest.py) and outcome recorder (parsl_outcomes.py) as plugins. `$SPRIG_PARSL_TESTS_DEPS`,
if set, is appended to `sys.path`: the third-party modules the tests import (see scripts/parsl-tests). The exit status is
pytest's. scripts/parsl-tests calls this once per test file; see its docstring.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import parsl  # noqa: E402

import parsl_tests_layout  # noqa: E402


def main(arguments: list[str]) -> int:
    where = os.path.abspath(getattr(parsl, "__file__", "") or "?")
    if not where.endswith(os.path.join("sprig", "compat", "parsl", "__init__.py")) \
            or not str(getattr(parsl, "__version__", "")).endswith("+sprig"):
        print(f"parsl-tests: `import parsl` gave {where} (version {getattr(parsl, '__version__', '?')}),"
              " not Sprig's compat package; refusing to run Parsl's tests against it", file=sys.stderr)
        return 3
    tests = parsl_tests_layout.install()
    if tests is None:
        print(f"parsl-tests: set ${parsl_tests_layout.ENVIRONMENT} to the extracted parsl/tests folder", file=sys.stderr)
        return 3
    # Workers get this sys.path as their PYTHONPATH: first, so that site/sitecustomize.py is the
    # one they run (not Debian's, in the standard library folder).
    sys.path.insert(0, os.path.join(HERE, "site"))
    dependencies = os.environ.get("SPRIG_PARSL_TESTS_DEPS")
    if dependencies:  # the tests' own third-party imports, after Debian's packages (never parsl)
        sys.path.append(dependencies)

    import pytest

    return int(pytest.main(["-p", "parsl_conftest", "-p", "parsl_outcomes", *arguments]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
