"""Run at start-up by Python processes whose PYTHONPATH holds this folder: Sprig's worker processes
during a `scripts/parsl-tests` run (Sprig gives its workers the embedded interpreter's `sys.path`,
which the runner extends with this folder). Makes `parsl.tests` importable there too, so test
functions pickled by reference can be found. See ../parsl_tests_layout.py."""

import os
import sys

sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import parsl_tests_layout  # noqa: E402

parsl_tests_layout.install()
