"""The process-executor workloads of ``benchmarks/workloads.py`` on what a user could pick instead
of a workflow engine, for ``scripts/bench-vs-parsl``'s peer columns:

    /usr/bin/python3.11 benchmarks/peers.py --peer processpool      # concurrent.futures, 2 processes
    .bench-venv/dask/bin/python benchmarks/peers.py --peer dask       # Dask distributed, 2 worker processes

``processpool`` is ``concurrent.futures.ProcessPoolExecutor(2)``. ``dask`` is
``distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
dashboard_address=None)`` with a ``Client`` on it: loopback only, no dashboard. ``--quick`` divides
the counts by 10, as in ``workloads.py``.

The same order and counts as ``workloads.py`` for what these peers can express: first result
(startup), 200 no-ops of warm-up (not measured), 5,000 no-ops submitted at once, 200 sequential
round trips, a 1,000-link chain, 1,000 ``inc`` reduced by one ``total``, 200 echoes of 1 MiB.
The chain on a process pool submits each link once the previous result is back (a pool has no
dependencies); on Dask each link takes the previous future as its argument, which the scheduler
resolves. The fan-in on a pool gathers the 1,000 results and submits ``total`` with them; on Dask
``total`` takes the list of futures. Dask calls are ``pure=False`` (every call runs; Dask would
otherwise merge identical calls into one task). The last line printed is one JSON object in
``workloads.py``'s shape.
"""

import time

IMPORT_STARTED = time.time()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from measure import Figures, own_peak_rss_mb  # noqa: E402  (benchmarks/measure.py, beside this file)


def noop():
    return None


def inc(x):
    return x + 1


def total(inputs=()):
    return sum(inputs)


def echo(data):
    return data


class ProcessPool:
    """``concurrent.futures.ProcessPoolExecutor(2)`` behind the few calls the workloads need."""

    name = "processpool"

    def __init__(self) -> None:
        import concurrent.futures

        self.pool = concurrent.futures.ProcessPoolExecutor(2)

    def submit(self, function, *args):
        return self.pool.submit(function, *args)

    @staticmethod
    def result(future):
        return future.result()

    def chain(self, links: int) -> int:
        value = 0
        for _ in range(links):
            value = self.pool.submit(inc, value).result()
        return value

    def fan(self, parts: int) -> int:
        values = [f.result() for f in [self.pool.submit(inc, i) for i in range(parts)]]
        return self.pool.submit(total, values).result()

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    @staticmethod
    def versions() -> dict:
        return {"python": sys.version.split()[0], "executable": sys.executable}


class Dask:
    """A Dask distributed ``LocalCluster`` of 2 worker processes, one thread each, on loopback."""

    name = "dask"

    def __init__(self) -> None:
        from distributed import Client, LocalCluster

        self.cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                    dashboard_address=None)
        self.client = Client(self.cluster)

    def submit(self, function, *args):
        return self.client.submit(function, *args, pure=False)

    @staticmethod
    def result(future):
        return future.result()

    def chain(self, links: int) -> int:
        link = self.client.submit(inc, 0, pure=False)
        for _ in range(links - 1):
            link = self.client.submit(inc, link, pure=False)
        return link.result()

    def fan(self, parts: int) -> int:
        parts_ = [self.client.submit(inc, i, pure=False) for i in range(parts)]
        return self.client.submit(total, parts_, pure=False).result()

    def close(self) -> None:
        self.client.close()
        self.cluster.close()

    @staticmethod
    def versions() -> dict:
        import dask
        import distributed

        return {"python": sys.version.split()[0], "executable": sys.executable, "dask": dask.__version__,
                "distributed": distributed.__version__}


def main() -> int:
    parser = argparse.ArgumentParser(description="Peer workloads (see the module docstring)")
    parser.add_argument("--peer", choices=("processpool", "dask"), required=True)
    parser.add_argument("--quick", action="store_true", help="counts / 10")
    options = parser.parse_args()
    scale = 10 if options.quick else 1
    m = Figures()
    figures = m.figures

    load_started = time.time()
    peer = ProcessPool() if options.peer == "processpool" else Dask()
    loaded = time.time()
    peer.submit(noop).result()
    figures["first_result_epoch"] = time.time()
    figures["import_s"] = load_started - IMPORT_STARTED
    figures["load_s"] = loaded - load_started
    figures["load_to_first_result_s"] = figures["first_result_epoch"] - load_started

    for future in [peer.submit(noop) for _ in range(200)]:
        future.result()

    m.burst(lambda: peer.submit(noop), 5000 // scale)
    m.round_trips(lambda: peer.submit(noop), 200 // scale)

    links = 1000 // scale
    value = m.timed("chain", "chain_s", lambda: peer.chain(links))
    assert value == links, value
    figures["chain_links"] = links

    parts = 1000 // scale
    reduced = m.timed("fan", "fan_s", lambda: peer.fan(parts))
    assert reduced == parts * (parts + 1) // 2, reduced
    figures["fan_count"] = parts

    m.echoes(lambda data: peer.submit(echo, data), bytes(range(256)) * 4096, 200 // scale)  # 1 MiB

    figures["own_peak_rss_mb"] = own_peak_rss_mb()
    clock = time.perf_counter()
    peer.close()
    figures["cleanup_s"] = time.perf_counter() - clock
    print(json.dumps({"peer": options.peer, "quick": options.quick, "pid": os.getpid(), "versions": peer.versions(),
                      "figures": figures, "phases": m.phases}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
