"""The payload workload alone, for quick iteration: N echoes of 1 MiB of bytes submitted at once
and read back (as in ``benchmarks/workloads.py``), on one local block of 2 workers, with Parsl's
API only, so that the same file runs under real Parsl and under Sprig:

    .build/release/sprig run   benchmarks/payload.py [--count 200] [--runs 3]
    .bench-venv/parsl/bin/python benchmarks/payload.py
    /usr/bin/python3.11 benchmarks/payload.py --peer processpool   # concurrent.futures, 2 processes

Prints one line per run: MiB/s one way (count / seconds), and the bytes this process moved
through system calls per task (``rchar``/``wchar`` of /proc/self/io: pipes and segment files) and
its minor page faults per task (fresh memory), then the load average.
"""

import argparse
import time


def echo_plain(data):
    return data


def minor_faults() -> int:
    with open("/proc/self/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])  # minflt, field 10


def io_counters() -> tuple[int, int]:
    with open("/proc/self/io") as f:
        fields = dict(line.split(": ") for line in f.read().splitlines())
    return int(fields["rchar"]), int(fields["wchar"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peer", choices=["processpool"], help="run on concurrent.futures.ProcessPoolExecutor(2) instead")
    parser.add_argument("--prefetch", type=int, help="HighThroughputExecutor(prefetch_capacity=...)")
    options = parser.parse_args()
    if options.peer:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(2)
        submit, close = (lambda data: pool.submit(echo_plain, data)), pool.shutdown
    else:
        import parsl
        from parsl.app.app import python_app
        from parsl.config import Config
        from parsl.executors import HighThroughputExecutor
        from parsl.providers import LocalProvider

        extra = {} if options.prefetch is None else {"prefetch_capacity": options.prefetch}
        parsl.load(Config(executors=[HighThroughputExecutor(
            label="htex", address="127.0.0.1", max_workers_per_node=2, cores_per_worker=1,
            provider=LocalProvider(init_blocks=1, max_blocks=1), **extra)], strategy="none"))
        submit = python_app(echo_plain)

        def close() -> None:
            parsl.dfk().cleanup()
    payload = bytes(range(256)) * 4096  # 1 MiB
    assert len(submit(b"warm-up").result()) == 7
    for run in range(options.runs):
        read0, written0 = io_counters()
        faults0 = minor_faults()
        clock = time.perf_counter()
        futures = [submit(payload) for _ in range(options.count)]
        for future in futures:
            assert len(future.result()) == len(payload)
        seconds = time.perf_counter() - clock
        read1, written1 = io_counters()
        faults = (minor_faults() - faults0) / options.count
        del futures
        print(f"run {run + 1}: {options.count / seconds:,.0f} MiB/s one way ({seconds:.3f} s); this process per task: "
              f"read {(read1 - read0) / options.count / 1024:,.0f} KiB, wrote {(written1 - written0) / options.count / 1024:,.0f} KiB, "
              f"{faults:,.0f} page faults",
              flush=True)
    close()
    print("load average:", open("/proc/loadavg").read().strip())


if __name__ == "__main__":
    main()
