# Bash apps' execution contract, as a script sees it. argv: folder, mode (stdin | shared | hold)
import os
import sys
import time

import parsl
from parsl import bash_app

folder, mode = sys.argv[1], sys.argv[2]


@bash_app
def stdin_of(stdout=None):
    return "readlink /proc/$$/fd/0"


@bash_app
def both_streams(stdout=None, stderr=None):
    return "echo to-stdout; echo to-stderr >&2"


@bash_app
def hold(path):
    # The command's process group is bash's own pid; the sleep is in it.
    return f"echo $$ > {path}.tmp && mv {path}.tmp {path}; sleep 100"


if mode == "stdin":
    stdin_of(stdout=f"{folder}/stdin.txt").result(timeout=60)
    print(open(f"{folder}/stdin.txt").read().strip())
elif mode == "shared":
    target = (f"{folder}/both.txt", "w")
    both_streams(stdout=target, stderr=target).result(timeout=60)
    print(sorted(open(f"{folder}/both.txt").read().split()))
elif mode == "hold":
    running = [hold(f"{folder}/group-{i}") for i in range(2)]
    deadline = time.monotonic() + 60
    while not all(os.path.exists(f"{folder}/group-{i}") for i in range(2)) and time.monotonic() < deadline:
        time.sleep(0.01)
    print("started", flush=True)
    for future in running:
        future.result()
