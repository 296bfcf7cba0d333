# Join apps whose inner futures have already finished (Parsl's fibonacci example), looped.
from parsl.app.app import join_app, python_app


@python_app
def add(*args):
    return sum(args)


@python_app
def one():
    return 1


@join_app
def fibonacci(n):
    if n == 0:
        return add()
    if n <= 2:
        return add(1)
    return add(fibonacci(n - 1), fibonacci(n - 2))


@join_app
def finished_inner():
    f = one()
    f.result()  # done before the join function returns it
    return f


@join_app
def finished_list():
    fs = [one() for _ in range(3)]
    for f in fs:
        f.result()
    return fs


@join_app
def not_a_future():
    return 1


for _ in range(20):
    assert fibonacci(8).result() == 21
    assert finished_inner().result() == 1
    assert finished_list().result() == [1, 1, 1]
print("ok joins")
try:
    not_a_future().result()
except TypeError as e:
    print("ok not a future:", "join app must return" in str(e))
