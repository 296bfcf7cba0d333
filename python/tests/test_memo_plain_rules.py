"""What the engine relies on to key plain calls itself (``PlainCallKey.swift``): the watcher that
says when a script replaced a plain type's id_for_memo rule, and the shape of an app's calls."""

from __future__ import annotations

from sprig.memo_calls import plain_call_shape
from sprig.memo_keys import id_for_memo, plain_rules_intact, task_key, watch_plain_rules


def test_a_rule_for_a_plain_type_is_reported_and_restoring_it_is_too():
    seen: list[bool] = []
    watch_plain_rules(seen.append)
    assert seen == [True] and plain_rules_intact()
    original = id_for_memo.dispatch(int)
    before = task_key("m.f", (1,), {})
    try:
        @id_for_memo.register(int)
        def _mine(value, output_ref=False):
            return b"mine"

        assert seen[-1] is False and not plain_rules_intact()
        assert task_key("m.f", (1,), {}) != before  # (the script's rule is what keys the call now)
    finally:
        id_for_memo.register(int, original)
    assert seen[-1] is True and plain_rules_intact()
    assert task_key("m.f", (1,), {}) == before


def test_a_rule_for_another_type_leaves_the_plain_rules_intact():
    class Point:
        pass

    seen: list[bool] = []
    watch_plain_rules(seen.append)
    id_for_memo.register(Point, lambda value, output_ref=False: b"point")
    assert seen == [True, True]
    assert id_for_memo(Point()) == b"point"


def test_an_apps_shape_is_its_positional_names_unless_its_keys_need_python():
    def app(a, b=2, *rest, c=3, **kw):
        return a

    def command(a, b):
        return "echo"

    assert plain_call_shape(app, bash=False) == ("a", "b")
    assert plain_call_shape(command, bash=True) == ("a", "b")
    assert plain_call_shape(app, bash=True) is None  # (a bash app's defaults are hashed as if passed)
