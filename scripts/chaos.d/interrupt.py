"""Two bash apps running ``sleep 100`` (one per worker or thread), for Ctrl-C or SIGTERM of the
run from outside: what is left of the commands after the run has exited?

    sprig run interrupt.py --executor threads|htex

Prints ``start`` once both are submitted, then waits for them (the harness signals the run long
before they could end).
"""

import chaos_common as chaos

opts = chaos.options(__doc__, seconds=(int, 100))
chaos.load(opts, retries=0)
tally = chaos.Tally()
if opts.executor == "htex":
    chaos.warm_up(tally, opts, count=10)
sleeps = [tally.add(chaos.sleeper(opts.seconds), 0) for _ in range(opts.workers)]
chaos.emit("start", tasks=len(sleeps))
tally.wait(chaos.deadline(opts), sleeps)
tally.report()
chaos.finish()
