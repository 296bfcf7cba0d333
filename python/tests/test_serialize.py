"""sprig.serialize: function/call pickling, Pickled markers, error messages."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import pytest

import sample_apps
from conftest import needs_cloudpickle
from sprig import serialize
from sprig.serialize import Pickled, SerializationError


def test_serializer_name_and_version() -> None:
    if serialize.has_cloudpickle():
        import cloudpickle

        assert serialize.serializer_name() == "cloudpickle"
        assert serialize.serializer_version() == cloudpickle.__version__
    else:
        assert serialize.serializer_name() == "pickle"
        assert serialize.serializer_version() == ""


def test_module_function_and_call_roundtrip() -> None:
    fn = serialize.loads(serialize.dumps_function(sample_apps.add))
    args, kwargs = serialize.loads(serialize.dumps_call((1,), {"b": 2}))
    assert fn(*args, **kwargs) == 3


@needs_cloudpickle
def test_lambda_and_closure_travel_by_value() -> None:
    base = 10

    def closure(x: int) -> int:
        return x + base

    assert serialize.loads(serialize.dumps_function(lambda x: x * 2))(4) == 8
    assert serialize.loads(serialize.dumps_function(closure))(1) == 11


def test_unpicklable_positional_argument_is_named() -> None:
    with pytest.raises(SerializationError) as info:
        serialize.dumps_call((1, (i for i in range(2))), {})
    assert str(info.value).startswith("argument 2: ")
    assert "generator" in str(info.value)


def test_unpicklable_keyword_argument_is_named() -> None:
    with pytest.raises(SerializationError) as info:
        serialize.dumps_call((), {"ok": 1, "bad": (i for i in range(2))})
    assert str(info.value).startswith("keyword argument 'bad': ")
    assert "generator" in str(info.value)


def test_unpicklable_function_is_named() -> None:
    class Callable:
        def __reduce__(self):  # noqa: D401
            raise TypeError("nope")

        def __call__(self) -> None:
            pass

    with pytest.raises(SerializationError, match="nope"):
        serialize.dumps_function(Callable())


def test_unpicklable_result_names_its_type() -> None:
    with pytest.raises(SerializationError, match="generator"):
        serialize.dumps_result(i for i in range(2))


def test_pickled_is_resolved_at_every_level() -> None:
    one = Pickled(pickle.dumps({"a": 1}))
    two = Pickled(pickle.dumps([2]))
    sent_args = (one, [two, (one,)], {"k": two, "n": [{"deep": one}]})
    sent_kwargs = {"x": one, "y": (1, two)}
    # Pickled itself survives pickling (the interchange sends it inside the payload).
    received_args, received_kwargs = serialize.loads(serialize.dumps_call(sent_args, sent_kwargs))
    args, kwargs = serialize.resolve_call(received_args, received_kwargs)
    assert args == ({"a": 1}, [[2], ({"a": 1},)], {"k": [2], "n": [{"deep": {"a": 1}}]})
    assert kwargs == {"x": {"a": 1}, "y": (1, [2])}


def test_pickled_in_sets_and_dict_keys_is_resolved() -> None:
    one = Pickled(pickle.dumps(("a", 1)))
    two = Pickled(pickle.dumps(frozenset({2})))
    sent = ({one, "plain"}, frozenset({two}), {one: "value", "k": {two: [one]}})
    received, _ = serialize.loads(serialize.dumps_call(sent, {}))
    resolved, _ = serialize.resolve_call(received, {})
    assert resolved == ({("a", 1), "plain"}, frozenset({frozenset({2})}), {("a", 1): "value", "k": {frozenset({2}): [("a", 1)]}})
    assert type(resolved[0]) is set and type(resolved[1]) is frozenset


def test_containers_without_pickled_are_not_copied() -> None:
    value = [1, (2, 3), {"a": [4]}, {5}, frozenset({6})]
    assert serialize.resolve_pickled(value) is value


def test_pickled_equality_and_repr() -> None:
    assert Pickled(b"ab") == Pickled(bytearray(b"ab"))
    assert "2 bytes" in repr(Pickled(b"ab"))


def test_a_function_pickled_with_its_search_path_loads_where_the_path_is_missing(tmp_path):
    import subprocess
    import sys

    from sprig import serialize

    module_dir = tmp_path / "apps_here"
    module_dir.mkdir()
    (module_dir / "late_module.py").write_text("def answer():\n    return 42\n")
    sys.path.insert(0, str(module_dir))
    try:
        import late_module

        data = serialize.dumps_function(late_module.answer, [str(module_dir)])
    finally:
        sys.path.remove(str(module_dir))
        sys.modules.pop("late_module", None)
    # A fresh interpreter that has never heard of the folder.
    code = "import sys, pickle; fn = pickle.loads(sys.stdin.buffer.read()); print(fn())"
    env = {"PYTHONPATH": str(__import__("pathlib").Path(serialize.__file__).parent.parent)}
    out = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, env=env, timeout=30)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().strip() == "42"


def test_pickle_only_holds_here_and_in_child_processes() -> None:
    import subprocess

    code = (
        "from sprig import serialize\n"
        "serialize.use_pickle_only()\n"
        "import subprocess, sys\n"
        "child = subprocess.run([sys.executable, '-c', 'from sprig import serialize; print(serialize.serializer_name())'],"
        " capture_output=True, text=True, check=True).stdout.strip()\n"
        "print(serialize.serializer_name(), child)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(serialize.__file__).resolve().parent.parent)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, timeout=60)
    assert out.stdout.split() == ["pickle", "pickle"]
