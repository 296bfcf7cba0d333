"""Test helper: worker processes started with this folder on PYTHONPATH exit at once (status 7),
as a worker would on a host where it cannot start. Other processes are not affected."""

import os
import sys

if os.environ.get("SPRIG_TEST_HIDE_CLOUDPICKLE") == "1":
    # This file shadows hide_cloudpickle/sitecustomize.py, so it hides cloudpickle itself.
    sys.modules["cloudpickle"] = None  # type: ignore[assignment]

if "sprig.worker" in getattr(sys, "orig_argv", ()):
    os._exit(7)
