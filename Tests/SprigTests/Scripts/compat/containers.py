# Futures anywhere: dict keys and values, sets, nested tuples and lists (Parsl's deep resolver).
from concurrent.futures import Future

from parsl.app.app import python_app


@python_app
def word(text):
    return text


@python_app
def show(value):
    return repr(value) if not isinstance(value, (set, frozenset)) else sorted(value)


key = Future()
key.set_result("a")
print(show({key: [30, word("ten")], word("b"): 20}).result(timeout=30))
print(show({word("x"), word("y")}).result(timeout=30))
print(show(frozenset({"plain"})).result(timeout=30))
print(show([([word("deep")],)]).result(timeout=30))
ended = [word("p"), word("q")]
[f.result(timeout=30) for f in ended]  # futures that have ended: their values, in a set too
print(show(set(ended)).result(timeout=30), show(frozenset([ended[0]])).result(timeout=30))
