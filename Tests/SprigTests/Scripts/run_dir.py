import os

import parsl
from parsl.config import Config
from parsl.executors.threads import ThreadPoolExecutor

for _ in range(2):
    with parsl.load(Config(executors=[ThreadPoolExecutor(label="t")], run_dir="runs")):
        folder = parsl.dfk().run_dir
        print(os.path.relpath(folder), os.path.isdir(folder))
