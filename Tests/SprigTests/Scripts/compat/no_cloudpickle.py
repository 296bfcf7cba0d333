# An engine without cloudpickle: blocks still start (they pickle without it too), functions from
# modules run, and what cannot travel is said once.
import os
import sys

sys.modules["cloudpickle"] = None  # as if it were not installed

folder = sys.argv[1]
with open(os.path.join(folder, "plain_apps.py"), "w") as f:
    f.write("def double(x):\n    return 2 * x\n")
sys.path.insert(0, folder)

import parsl
import plain_apps
from parsl.app.app import python_app
from parsl.configs.htex_local import config

parsl.load(config)
double = python_app(plain_apps.double)
print("module function", double(21).result(timeout=60))
parsl.dfk().cleanup()
