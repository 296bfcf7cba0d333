"""An app argument nested 20,000 lists deep, between ten ordinary apps before and ten after: that
task must fail with an error naming the app (``nested_depth``), the others must succeed, and the run
must end normally (not with a crash of the host).

    sprig run nested.py --executor threads|htex [--levels 20000]

A call that raises at once counts as that task failing (``raised`` in the result names the error);
``deep`` in the result is that task's outcome and whether its error names the app.
"""

import chaos_common as chaos

opts = chaos.options(__doc__, levels=(int, 20000))
chaos.load(opts, retries=0)
tally = chaos.Tally()
chaos.emit("start", tasks=21)
before = [tally.add(chaos.short(i, 0.001), 2 * i) for i in range(10)]
value: list = []
for _ in range(opts.levels):
    value = [value]
deep = {"outcome": "lost", "names_app": False, "detail": ""}
try:
    future = chaos.nested_depth(value)
except Exception as error:  # noqa: BLE001 (the call itself failed: that is this task's outcome)
    text = f"{type(error).__name__}: {str(error)[:300]}"
    tally.raised.append(text)
    deep = {"outcome": "failed", "names_app": "nested_depth" in str(error), "detail": text, "raised": True}
    future = None
else:
    tally.add(future, opts.levels)
after = [tally.add(chaos.short(i, 0.001), 2 * i) for i in range(10, 20)]
tally.wait(chaos.deadline(opts))
if future is not None:
    kind, detail = tally.outcome(future, opts.levels)
    names = future.done() and future.exception() is not None and "nested_depth" in str(future.exception())
    deep = {"outcome": kind, "names_app": bool(names), "detail": detail[:300]}
others = [tally.outcome(f, 2 * i)[0] for i, f in enumerate(before + after)]
tally.report(deep=deep, others_ok=others.count("ok"), others=len(others))
chaos.finish()
