"""Test helper: makes ``import cloudpickle`` fail in processes started with this folder on PYTHONPATH.

Used when the suite runs with SPRIG_TEST_HIDE_CLOUDPICKLE=1, to check the stdlib-pickle path.
"""

import sys

sys.modules["cloudpickle"] = None  # type: ignore[assignment]
