"""What the benchmark scripts share (``workloads.py``, ``peers.py``, ``scale.py``): the figures
and wall-clock windows of one process's workloads, and its peak RSS. Standard library only: it
runs under Parsl's venv, Dask's, ``sprig run`` and the system Python alike.
"""

import time


class Figures:
    """Figures by key and each workload's ``[start, end]`` wall-clock window (``time.time()``),
    which ``scripts/bench-vs-parsl`` matches with the memory it samples from outside."""

    def __init__(self) -> None:
        self.figures: dict = {}
        self.phases: dict = {}

    def phase(self, name: str, started: float) -> None:
        self.phases[name] = [started, time.time()]

    def timed(self, phase: str, key: str, run):
        """Runs ``run()`` as workload ``phase``; its seconds go to ``key``. Returns what it returned."""
        started = time.time()
        clock = time.perf_counter()
        value = run()
        self.figures[key] = time.perf_counter() - clock
        self.phase(phase, started)
        return value

    def burst(self, submit, count: int) -> None:
        """``count`` calls of ``submit()`` (each returns a future) at once, then every result:
        ``noop_submit_rate`` and ``noop_end_to_end_rate``."""
        started = time.time()
        clock = time.perf_counter()
        futures = [submit() for _ in range(count)]
        submitted = time.perf_counter() - clock
        for future in futures:
            future.result()
        ended = time.perf_counter() - clock
        self.phase("noop", started)
        self.figures["noop_count"] = count
        self.figures["noop_submit_rate"] = count / submitted
        self.figures["noop_end_to_end_rate"] = count / ended

    def round_trips(self, submit, rounds: int) -> None:
        """``rounds`` sequential ``submit().result()``: ``latency_median_ms`` and ``latency_p99_ms``."""
        started = time.time()
        latencies = []
        for _ in range(rounds):
            clock = time.perf_counter()
            submit().result()
            latencies.append(time.perf_counter() - clock)
        self.phase("latency", started)
        latencies.sort()
        self.figures["latency_rounds"] = rounds
        self.figures["latency_median_ms"] = latencies[len(latencies) // 2] * 1e3
        self.figures["latency_p99_ms"] = latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)] * 1e3

    def echoes(self, submit, payload: bytes, count: int) -> None:
        """``count`` ``submit(payload)`` at once, each result checked: ``payload_mib_s`` (one way)."""
        started = time.time()
        clock = time.perf_counter()
        futures = [submit(payload) for _ in range(count)]
        for future in futures:
            assert len(future.result()) == len(payload)
        self.figures["payload_mib_s"] = count * len(payload) / (1 << 20) / (time.perf_counter() - clock)
        self.phase("payload", started)
        self.figures["payload_count"] = count


def status_mb(field: str) -> float:
    """A memory line of /proc/self/status (``VmHWM``, ``VmRSS``), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def own_peak_rss_mb() -> float:
    """VmHWM of this process, in MB."""
    return status_mb("VmHWM")
