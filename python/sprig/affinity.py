"""CPU affinity of a block's workers (Parsl's ``HighThroughputExecutor(cpu_affinity=...)``).

A value says which CPUs each worker of a manager may run on, out of the CPUs the manager itself
may use (``os.sched_getaffinity(0)``, sorted), for ``count`` workers numbered from 0:

* ``none``: no pinning (the default);
* ``block``: each worker gets ``len(cpus) // count`` consecutive CPUs, worker 0 the first ones;
* ``block-reverse``: the same blocks, worker 0 the last one;
* ``alternating``: worker ``i`` gets every ``count``-th CPU starting at the ``i``-th;
* ``list:A:B:...``: one group per worker, each a comma-separated list of CPU numbers or ranges
  ``first-last`` (inclusive), e.g. ``list:0,2:1,3`` or ``list:0-3:4-7``.

Names are case-insensitive. :func:`parse` checks a value's form (the config does, when it is
made); :func:`plan` gives each worker its CPUs once the worker count and the CPUs are known (the
manager does, at start: a value that cannot work there, such as ``block`` with more workers than
CPUs, is a bad command line). A pinned worker also gets the OpenMP variables Parsl sets:
:func:`openmp_environment`.
"""

from __future__ import annotations

NONE = "none"
STRATEGIES = ("none", "block", "alternating", "block-reverse")
LIST_PREFIX = "list:"


def parse(value: object) -> str:
    """The normalised value (lower case), or ValueError naming it and the values allowed."""
    if not isinstance(value, str):
        raise ValueError(f"cpu_affinity must be a str, not {type(value).__name__} ({value!r})")
    text = value.strip().lower()
    if text in STRATEGIES:
        return text
    if text.startswith(LIST_PREFIX):
        groups = text[len(LIST_PREFIX):].split(":")
        for group in groups:
            _cpus_of_group(value, group)
        return text
    raise ValueError(f"cpu_affinity {value!r} is not one of {', '.join(STRATEGIES)}, "
                     "or 'list:' with one group of CPUs per worker (e.g. 'list:0,1:2-3')")


def _cpus_of_group(value: str, group: str) -> list[int]:
    cpus: list[int] = []
    for word in group.split(","):
        first, dash, last = word.partition("-")
        if not (first.isdigit() and (not dash or last.isdigit())):
            raise ValueError(f"cpu_affinity {value!r}: {group!r} is not a list of CPU numbers or ranges "
                             "such as '0,2' or '0-3'")
        low, high = int(first), int(last) if dash else int(first)
        if high < low:
            raise ValueError(f"cpu_affinity {value!r}: the range {word!r} is empty")
        cpus.extend(range(low, high + 1))
    return cpus


def plan(value: str, count: int, available: list[int]) -> list[list[int]] | None:
    """The CPUs of each of ``count`` workers (None for ``none``), out of the sorted CPUs
    ``available``; ValueError when the value cannot be applied to them."""
    text = parse(value)
    if text == NONE:
        return None
    cpus = sorted(available)
    if text.startswith(LIST_PREFIX):
        groups = text[len(LIST_PREFIX):].split(":")
        if len(groups) != count:
            raise ValueError(f"cpu_affinity {value!r} has {len(groups)} CPU groups for {count} workers; "
                             "give one group per worker")
        chosen = [_cpus_of_group(value, group) for group in groups]
        foreign = sorted({cpu for group in chosen for cpu in group} - set(cpus))
        if foreign:
            raise ValueError(f"cpu_affinity {value!r} names CPUs {foreign} that this manager cannot use "
                             f"(it may use {cpus})")
        return chosen
    if text == "alternating":
        if count > len(cpus):
            raise ValueError(f"cpu_affinity {value!r} needs a CPU per worker: {count} workers, {len(cpus)} CPUs")
        return [cpus[index::count] for index in range(count)]
    each = len(cpus) // count
    if each == 0:
        raise ValueError(f"cpu_affinity {value!r} needs a CPU per worker: {count} workers, {len(cpus)} CPUs")
    blocks = [cpus[each * index:each * (index + 1)] for index in range(count)]
    return blocks[::-1] if text == "block-reverse" else blocks


def openmp_environment(cpus: list[int]) -> dict[str, str]:
    """The variables that tell OpenMP runtimes (GCC's, Intel's) to use these CPUs."""
    listed = ",".join(str(cpu) for cpu in cpus)
    return {"OMP_NUM_THREADS": str(len(cpus)), "GOMP_CPU_AFFINITY": listed,
            "KMP_AFFINITY": f"explicit,proclist=[{listed}]"}
