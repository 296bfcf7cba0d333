import parsl
from parsl.app.app import python_app, join_app
from parsl.configs.local_threads import config

@python_app
def double(x):
    return 2 * x

with parsl.load(config):
    print(double(21).result())
with parsl.load(config):
    print(double(5).result())
print("done")
