"""Functions the Swift examples run as Python apps (the seed article's apps)."""

import random
import time


def multiply(a, b):
    return a * b


def generate(limit, delay):
    """Sleeps `delay` seconds, then returns a random integer in 1..limit."""
    time.sleep(delay)
    return random.randint(1, limit)


def scale(values, factor):
    """Multiplies each value by `factor`."""
    return [v * factor for v in values]


def render_report(values, outputs=()):
    """Writes one line per value to the first output file and returns the total."""
    with open(outputs[0], "w") as out:
        for v in values:
            out.write(f"value {v}\n")
    return sum(values)


def count_lines_command(report, outputs=()):
    """A bash app's command line: counts the report's lines into the output file."""
    return f"wc -l < {report.filepath} > {outputs[0].filepath}"


def burn(n):
    """CPU-bound pure Python: sums the squares below n (holds the GIL throughout)."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def burn_on_host(n):
    """burn(n), then the name of the host that ran it."""
    import socket

    burn(n)
    return socket.gethostname()
