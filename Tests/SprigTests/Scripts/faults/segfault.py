# A thread-executor app whose C code crashes the process.
import ctypes

from parsl import python_app


@python_app
def crash():
    return ctypes.string_at(0)


crash().result()
