"""Apps the benchmarks run: as small as apps get, so that the engine's own cost shows."""


def noop():
    return None


def inc(x):
    return x + 1


def total(values):
    return sum(values)


def echo(data):
    return data
