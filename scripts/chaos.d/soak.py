"""Mixed apps for MINUTES on the process executor while the harness kills workers and managers at
random: short apps (0–5 ms, 80%), medium ones (20–100 ms, 10%), bash ``sleep 0`` (5%), and links of chains (each app
waits for the one before). About 200 tasks are kept in flight; settled ones are tallied and let go,
so the workflow's own memory stays flat and the sprig process's RSS is the engine's.

    sprig run soak.py --minutes 30 [--in-flight 200]

Prints ``start`` once the first tasks are in flight and the tally at the end (no completion times).
"""

import random
import threading
import time

import chaos_common as chaos

opts = chaos.options(__doc__, minutes=(float, 30.0), in_flight=(int, 200))
chaos.load(opts, retries=3)
tally = chaos.Tally()
chaos.warm_up(tally, opts)
counts = {"ok": 0, "failed": 0, "wrong": 0}
errors: dict[str, int] = {}
pending: dict[int, tuple[object, object]] = {}
lock = threading.Condition()
generator = random.Random(opts.seed)
submitted = 0


def settled(future) -> None:
    tally._done(future)  # reports new worker PIDs
    with lock:
        _, expected = pending.pop(id(future))
        kind, detail = tally.outcome(future, expected)
        counts[kind] += 1
        if kind == "failed":
            name = detail.split(":", 1)[0]
            errors[name] = errors.get(name, 0) + 1
        lock.notify()


chain: tuple[object, int] | None = None  # the last link of the current chain and its value
chain_links = 0


def submit_one() -> None:
    global submitted, chain, chain_links
    submitted += 1
    roll = generator.random()
    if roll < 0.80:
        future, expected = chaos.short(submitted, generator.uniform(0, 0.005)), 2 * submitted
    elif roll < 0.90:
        future, expected = chaos.short(submitted, generator.uniform(0.02, 0.1)), 2 * submitted
    elif roll < 0.95:
        future, expected = chaos.sleeper(0), 0
    elif chain is None or chain_links >= 20:
        future, expected = chaos.short(submitted, 0.001), 2 * submitted
        chain, chain_links = (future, expected), 1
    else:
        future, expected = chaos.inc(chain[0]), chain[1] + 1
        chain, chain_links = (future, expected), chain_links + 1
    with lock:
        pending[id(future)] = (future, expected)
    future.add_done_callback(settled)


end = time.time() + opts.minutes * 60
chaos.emit("start", in_flight=opts.in_flight)
while time.time() < end:
    with lock:
        while len(pending) >= opts.in_flight and time.time() < end:
            lock.wait(0.5)
        room = opts.in_flight - len(pending)
    for _ in range(max(0, room)):
        submit_one()
with lock:
    while pending and time.time() < chaos.deadline(opts):
        lock.wait(0.5)
    lost = len(pending)
chaos.emit("result", tasks=submitted, lost=lost, errors=errors, examples=[], t0=tally.t0, times=[],
           system="sprig" if chaos.parsl.__version__.endswith("+sprig") else "parsl", **counts)
chaos.finish()
