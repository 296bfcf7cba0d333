# An argument nested 20,000 lists deep: that call fails naming its app, the rest carries on.
from parsl import python_app
@python_app
def depth(x):
    n = 0
    while isinstance(x, list) and x:
        x = x[0]; n += 1
    return n
deep = []
for _ in range(20000):
    deep = [deep]
bad = depth(deep)
ok = depth([[[1]]])
try:
    bad.result()
except Exception as e:
    print(type(e).__name__, str(e)[:160])
print("ok", ok.result())
