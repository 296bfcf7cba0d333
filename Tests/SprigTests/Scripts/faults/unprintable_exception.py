# An exception whose __str__ raises still arrives as itself.
from parsl import python_app


class Unprintable(Exception):
    def __str__(self):
        raise ValueError("no str for you")


@python_app
def fails():
    raise Unprintable("x")


try:
    fails().result()
except Unprintable:
    print("caught Unprintable")
except Exception as e:
    print("caught", type(e).__name__)
