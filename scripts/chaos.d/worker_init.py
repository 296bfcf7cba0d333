"""A block whose ``worker_init`` prints a line (``echo hello``), as ``source ~/.profile`` does on a
chatty host: the run must succeed.

    sprig run worker_init.py [--tasks 20]
"""

import chaos_common as chaos

opts = chaos.options(__doc__, tasks=(int, 20))
chaos.load(opts, worker_init="echo hello")
tally = chaos.Tally()
chaos.emit("start", tasks=opts.tasks)
futures = [tally.add(chaos.short(i, 0.001), 2 * i) for i in range(opts.tasks)]
tally.wait(chaos.deadline(opts), futures)
tally.report()
chaos.finish()
