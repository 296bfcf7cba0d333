# outputs= as a tuple, and a signature default of ().
import sys

from parsl.app.app import python_app
from parsl.data_provider.files import File

folder = sys.argv[1]


@python_app
def write(text, outputs=()):
    for f in outputs:
        with open(f.filepath, "w") as handle:
            handle.write(text)
    return len(outputs)


assert write("none").result() == 0
f = write("one", outputs=(File(f"{folder}/a.txt"),))
assert f.result() == 1 and len(f.outputs) == 1
assert f.outputs[0].result().filepath == f"{folder}/a.txt"
assert write("two", outputs=[f"{folder}/b.txt", File(f"{folder}/c.txt")]).result() == 2
print("ok outputs")
