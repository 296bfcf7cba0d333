# Config(std_autopath=...) chooses AUTO_LOGNAME targets when the app is called; a File target is a
# DataFuture on the app's future.
import os
import sys

import parsl
from parsl.app.futures import DataFuture
from parsl.data_provider.files import File

folder = sys.argv[1]
asked = []


def choose(task_record, stream):
    asked.append((task_record["id"], stream))
    if stream == "stdout":
        return (os.path.join(folder, f"{task_record['func_name']}.{task_record['id']}.out"), "w")
    raise ValueError("no stderr for you")


@parsl.bash_app
def hello(stdout=parsl.AUTO_LOGNAME):
    return "echo hello"


@parsl.bash_app
def both(stdout=parsl.AUTO_LOGNAME, stderr=parsl.AUTO_LOGNAME):
    return "echo hello"


with parsl.load(parsl.Config(std_autopath=choose)):
    f = hello()
    assert f.stdout is f.stdout and f.stdout[1] == "w"
    assert f.result() == 0
    with open(f.stdout[0]) as out:
        print("autopath", out.read().strip(), asked.count((f.tid, "stdout")))
    try:
        both()
    except ValueError as e:
        print("raised at the call:", e)
    g = hello(stdout=File(os.path.join(folder, "file.out")))
    assert isinstance(g.stdout, DataFuture) and g.stdout is g.stdout
    print("file target", os.path.basename(g.stdout.result().filepath), open(g.stdout.result().filepath).read().strip())
