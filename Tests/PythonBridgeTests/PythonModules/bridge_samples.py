"""Python code the bridge tests call."""

import threading


class SampleError(Exception):
    """A user-defined exception, to check qualified type names."""


def add(a, b=0):
    return a + b


def divide(a, b):
    return a / b


def raise_sample(message):
    raise SampleError(message)


def echo(value):
    return value


def describe(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


class Counter:
    def __init__(self, start):
        self.value = start

    def bump(self, by=1):
        self.value += by
        return self.value


gate = threading.Event()


def wait_for_gate(timeout):
    """Blocks in C (GIL released) until another thread opens the gate."""
    return gate.wait(timeout)


def open_gate():
    gate.set()
