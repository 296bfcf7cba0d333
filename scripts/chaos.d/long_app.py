"""One long app (5 s) submitted just before N short ones (0–5 ms), on the process executor: do the
short ones keep every other worker busy while the long one runs?

    sprig run long_app.py --tasks 3000 --seconds 5 [--baseline 1000]

A baseline phase first measures the throughput of short apps on every worker (``baseline_rate``);
the result carries the long app's start and end on its worker (``stall``), from which the harness
takes the throughput of the short apps meanwhile.
"""

import chaos_common as chaos

opts = chaos.options(__doc__, tasks=(int, 3000), seconds=(float, 5.0), baseline=(int, 1000))
chaos.load(opts)
tally = chaos.Tally()
chaos.warm_up(tally, opts)
rate = chaos.baseline(tally, opts, opts.baseline)
slow = tally.add(chaos.long_app(-1, opts.seconds), -2)
main = [tally.add(chaos.short(i, delay), 2 * i) for i, delay in enumerate(chaos.short_delays(opts.tasks, opts.seed))]
chaos.emit("start", tasks=len(main) + 1)
tally.wait(chaos.deadline(opts), main + [slow])
stall = None
if slow.done() and slow.exception() is None:
    stall = slow.result()[3:5]
tally.report(baseline_rate=rate, workers=opts.workers, stall=stall, last_short=tally.last_completion(main))
chaos.finish()
