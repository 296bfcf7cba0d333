"""N short apps (0–5 ms each) on the process executor, for faults injected from outside while they
run: worker SIGKILLs, manager SIGKILLs, a worker SIGSTOPped.

    sprig run short_apps.py --tasks 3000 [--baseline 1000] [--bound 60]

Prints ``pids`` as workers report, ``start`` once the N apps are submitted (after the optional
baseline phase, whose throughput is in the result as ``baseline_rate``), then the tally.
"""

import chaos_common as chaos

opts = chaos.options(__doc__, tasks=(int, 3000), baseline=(int, 0))
chaos.load(opts)
tally = chaos.Tally()
chaos.warm_up(tally, opts)
measured = {"workers": opts.workers}
if opts.baseline:
    measured["baseline_rate"] = chaos.baseline(tally, opts, opts.baseline)
main = [tally.add(chaos.short(i, delay), 2 * i) for i, delay in enumerate(chaos.short_delays(opts.tasks, opts.seed))]
chaos.emit("start", tasks=len(main))
tally.wait(chaos.deadline(opts), main)
tally.report(**measured)
chaos.finish()
