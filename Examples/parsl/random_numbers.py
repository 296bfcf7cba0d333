# The seed article's loop, unchanged: five generate(10, i) apps on four threads, app i sleeping i
# seconds; they overlap, so the five numbers arrive after about 4 s.
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors.threads import ThreadPoolExecutor

local_threads = Config(
    executors=[
        ThreadPoolExecutor(
            max_threads=4,
            label='local_threads'
        )
    ]
)
parsl.load(local_threads)


@python_app
def generate(limit, delay):
    from random import randint
    import time
    time.sleep(delay)
    return randint(1, limit)


rand_nums = []
for i in range(5):
    rand_nums.append(generate(10, i))

outputs = [i.result() for i in rand_nums]
print(outputs)
