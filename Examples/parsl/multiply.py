# The seed article's first program, unchanged: a python_app on the local threads config.
import parsl
from parsl.app.app import python_app
from parsl.configs.local_threads import config

print(parsl.__version__)
parsl.load(config)


@python_app
def multiply(a, b):
    return a * b


print(multiply(5, 9).result())
