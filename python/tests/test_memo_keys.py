"""Cache keys of app calls (sprig.memo_keys) and fingerprints of app code (sprig.code_fingerprint):
Parsl's id_for_memo rules, keys that hold across processes, errors that name the argument."""

from __future__ import annotations

import collections
import enum
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sprig.app_submission import AUTO_LOGNAME
from sprig.code_fingerprint import code_fingerprint
from sprig.files import File
from sprig.memo_keys import (UnmemoizableError, id_for_memo, positional_parameters, signature_defaults,
                             task_key)

PYTHON_DIR = Path(__file__).resolve().parents[1]
COMPAT_DIR = PYTHON_DIR / "sprig" / "compat"


def run_python(code: str, hash_seed: str, cwd: Path = PYTHON_DIR) -> str:
    """Runs ``code`` in a fresh interpreter with string hashing seeded by ``hash_seed``; its stdout."""
    env = dict(os.environ, PYTHONHASHSEED=hash_seed,
               PYTHONPATH=os.pathsep.join([str(PYTHON_DIR), str(COMPAT_DIR), str(cwd)]))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env,
                          cwd=str(cwd))
    assert done.returncode == 0, done.stderr
    return done.stdout


def define(source: str, name: str, leading_lines: int = 0) -> object:
    """The function ``name`` compiled from ``source``, placed ``leading_lines`` lines down a file."""
    namespace: dict[str, object] = {}
    # (dont_inherit: this file's `from __future__ import annotations` would set a flag the code counts)
    code = compile("\n" * leading_lines + textwrap.dedent(source), "<app source>", "exec", dont_inherit=True)
    exec(code, namespace)
    return namespace[name]


# MARK: keys across processes

KEYS_SCRIPT = """
import json
from sprig.files import File
from sprig.memo_keys import task_key
calls = [
    ("sample.f", (1, "two", 3.5, None, True, b"raw"), {}),
    ("sample.f", ([1, (2, 3)], {"b": 1, "a": [File("in.txt")]}), {"tags": {"x", "y", "z"}}),
    ("sample.g", (), {"outputs": [File("out.txt")], "mode": frozenset({"fast", "slow"})}),
]
print(json.dumps([task_key(name, args, kwargs) for name, args, kwargs in calls]))
"""


def test_keys_are_the_same_in_two_fresh_processes_with_different_hash_seeds():
    first = json.loads(run_python(KEYS_SCRIPT, hash_seed="1"))
    second = json.loads(run_python(KEYS_SCRIPT, hash_seed="2"))
    assert first == second
    assert len(set(first)) == 3 and all(len(key) == 64 for key in first)


def test_key_format_is_pinned():
    # A change to the encoding must come with a new KEY_FORMAT, so old cache entries are never matched.
    assert task_key("sample.f", (1, "a"), {"k": [None, 2.5]}) == (
        "b592d82997212adb3b146b9bb7f6640697f57c5729f5896d00ecb862d6f77dee")


# MARK: which calls share a key


@pytest.mark.parametrize(("one", "other"), [
    (1, True), (1, 1.0), (1, "1"), (0.0, -0.0), ("a", b"a"), (None, "None"),
    ([1, 2], (1, 2)), ([1, 2], [2, 1]), ({1, 2}, frozenset({1, 2})), ({"a": 1}, {"a": 2}),
    (File("a.txt"), "a.txt"), (File("a.txt"), File("b.txt")), (2**70, 2**70 + 1), (-1, 255),
])
def test_different_values_give_different_keys(one, other):
    assert task_key("f", (one,), {}) != task_key("f", (other,), {})


def test_the_app_name_the_position_and_the_code_are_part_of_the_key():
    base = task_key("mod.f", (1, 2), {})
    assert base != task_key("mod.g", (1, 2), {})
    assert base != task_key("mod.f", (2, 1), {})
    assert base != task_key("mod.f", (1, 2), {}, code="0" * 64)
    assert task_key("mod.f", (1, 2), {}, code="0" * 64) != task_key("mod.f", (1, 2), {}, code="1" * 64)


def test_equal_values_built_apart_share_a_key():
    assert task_key("f", ([1, "a"], 2**100), {"d": {"x": (1.5, None)}}) == \
        task_key("f", ([1, "a"], 2**100), {"d": {"x": (1.5, None)}})


def test_dict_and_set_order_does_not_change_the_key():
    one = {"a": 1, "b": {"c": 2, "d": 3}, 3: "mixed key types"}
    other = {3: "mixed key types", "b": {"d": 3, "c": 2}, "a": 1}
    assert list(one) != list(other)
    assert task_key("f", (one,), {"s": {"p", "q", "r"}}) == task_key("f", (other,), {"s": {"r", "q", "p"}})
    assert task_key("f", (), {"x": 1, "y": 2}) == task_key("f", (), {"y": 2, "x": 1})


def test_the_call_is_hashed_as_given_and_bash_defaults_can_be_merged_first():
    def template(x, y=2):
        return f"echo {x} {y}"

    as_positional = task_key("t", (1,), {})
    assert as_positional != task_key("t", (), {"x": 1})
    assert as_positional != task_key("t", (1,), {"y": 2})  # Parsl's Python apps: the default is not filled in
    # Parsl's bash apps hash every default as if passed: merged first, both calls share a key.
    assert task_key("t", (1,), {**signature_defaults(template)}) == \
        task_key("t", (1,), {**signature_defaults(template), "y": 2})
    assert signature_defaults(template) == {"y": 2}


def test_arguments_nested_as_deep_as_the_engine_allows_have_a_key():
    def nested(depth: int, leaf: object) -> object:
        value = leaf
        for level in range(depth):
            value = [value] if level % 3 else {"k": (value,)}
        return value

    deep = nested(1000, 1)
    assert task_key("f", (deep,), {}) == task_key("f", (nested(1000, 1),), {})
    assert task_key("f", (deep,), {}) != task_key("f", (nested(1000, 2),), {})
    with pytest.raises(UnmemoizableError, match=r"at x\['k'\]\[0\]\[0\]\[0\]\['k'\]\[0\], which"):
        task_key("f", (), {"x": nested(4, NoRule())})


def test_subclasses_of_scalars_are_keyed_by_class_and_value():
    class Colour(enum.IntEnum):
        RED = 1

    class Label(str):
        pass

    assert task_key("f", (Colour.RED,), {}) != task_key("f", (1,), {})
    assert task_key("f", (Label("a"),), {}) != task_key("f", ("a",), {})
    assert task_key("f", (Label("a"),), {}) == task_key("f", (Label("a"),), {})


def test_a_function_argument_is_keyed_by_module_and_qualified_name():
    def helper():
        return 1

    def other():
        return 1

    assert task_key("f", (helper,), {}) == task_key("f", (helper,), {})
    assert task_key("f", (helper,), {}) != task_key("f", (other,), {})


# MARK: ignore_for_cache, AUTO_LOGNAME


def test_ignore_for_cache_leaves_keyword_arguments_out():
    assert task_key("f", (1,), {"scratch": "/tmp/a"}, ignore_for_cache=["scratch"]) == \
        task_key("f", (1,), {"scratch": "/tmp/b"}, ignore_for_cache=["scratch"])
    assert task_key("f", (1,), {"scratch": "/tmp/a"}, ignore_for_cache=["scratch"]) == \
        task_key("f", (1,), {}, ignore_for_cache=["scratch"])
    assert task_key("f", (1,), {"scratch": "/tmp/a"}) != task_key("f", (1,), {"scratch": "/tmp/b"})
    # A name that was not passed is no error (Parsl raises KeyError).
    assert task_key("f", (1,), {}, ignore_for_cache=["absent"]) == task_key("f", (1,), {})


def test_ignore_for_cache_leaves_a_named_positional_argument_out_in_its_place():
    def app(x, scratch, y):
        return x

    names = positional_parameters(app)
    assert names == ("x", "scratch", "y")
    key = task_key("f", (1, "/tmp/a", 2), {}, ["scratch"], positional_names=names)
    assert key == task_key("f", (1, "/tmp/b", 2), {}, ["scratch"], positional_names=names)
    assert key != task_key("f", (1, "/tmp/a", 3), {}, ["scratch"], positional_names=names)
    assert key != task_key("f", (1, 2), {}, ["scratch"], positional_names=("x", "y"))


def test_stdout_and_stderr_given_as_auto_logname_are_left_out():
    assert task_key("f", (), {"stdout": AUTO_LOGNAME, "stderr": AUTO_LOGNAME}) == task_key("f", (), {})
    assert task_key("f", (), {"stdout": "out.txt"}) != task_key("f", (), {})


# MARK: files and outputs


def test_a_file_is_keyed_by_its_path_not_by_identity_or_local_path():
    staged = File("data/in.txt")
    staged.local_path = "/scratch/in.txt"
    assert task_key("f", (File("data/in.txt"),), {}) == task_key("f", (staged,), {})
    assert task_key("f", (File("data/in.txt"),), {}) != task_key("f", (File("https://host/data/in.txt"),), {})


def test_outputs_are_encoded_as_output_references():
    class Tracked:
        pass

    seen: list[tuple[str, bool]] = []

    @id_for_memo.register(Tracked)
    def _tracked(value, output_ref=False):
        seen.append(("tracked", output_ref))
        return b"tracked"

    task_key("f", (Tracked(),), {"outputs": [Tracked(), {"k": Tracked()}], "other": Tracked()})
    assert sorted(seen) == [("tracked", False), ("tracked", False), ("tracked", True), ("tracked", True)]


# MARK: values with no rule, registered rules


class NoRule:
    pass


def test_an_unhashable_keyword_argument_is_named_with_its_type():
    with pytest.raises(UnmemoizableError) as caught:
        task_key("f", (), {"x": NoRule()})
    assert str(caught.value) == (
        "cannot cache a call of app 'f': argument 'x' has type test_memo_keys.NoRule, which id_for_memo has "
        "no rule for (register one with @id_for_memo.register(test_memo_keys.NoRule))")
    assert isinstance(caught.value, ValueError) and caught.value.value_type is NoRule


def test_an_unhashable_positional_or_nested_value_is_named_with_its_place():
    with pytest.raises(ValueError, match=r"argument 1 \(positional\) has type test_memo_keys.NoRule"):
        task_key("f", (1, NoRule()), {})
    with pytest.raises(ValueError, match=r"argument 'y' \(positional 1\) has type"):
        task_key("f", (1, NoRule()), {}, positional_names=("x", "y"))
    with pytest.raises(ValueError, match=r"argument 'x' holds a value of type test_memo_keys.NoRule at "
                                         r"x\[1\]\['k'\], which"):
        task_key("f", (), {"x": [1, {"k": NoRule()}]})


def test_subclasses_of_containers_have_no_rule_as_in_parsl():
    point = collections.namedtuple("Point", "x y")
    with pytest.raises(ValueError, match=r"argument 'p' has type test_memo_keys.Point \(a subclass of tuple"):
        task_key("f", (), {"p": point(1, 2)})
    with pytest.raises(ValueError, match=r"collections.OrderedDict \(a subclass of dict"):
        task_key("f", (collections.OrderedDict(a=1),), {})


def test_a_registered_rule_gives_a_type_a_key():
    class Sample:
        def __init__(self, name: str, size: int) -> None:
            self.name, self.size = name, size

    @id_for_memo.register(Sample)
    def _sample(value, output_ref=False):
        return id_for_memo((value.name, value.size), output_ref=output_ref)

    assert task_key("f", (Sample("a", 1),), {}) == task_key("f", (Sample("a", 1),), {})
    assert task_key("f", (Sample("a", 1),), {}) != task_key("f", (Sample("a", 2),), {})
    assert task_key("f", ([Sample("a", 1)],), {}) == task_key("f", ([Sample("a", 1)],), {})


def test_an_exception_from_a_registered_rule_keeps_its_type_and_gets_a_note():
    class Broken:
        pass

    class RuleFailed(ValueError):
        pass

    @id_for_memo.register(Broken)
    def _broken(value, output_ref=False):
        raise RuleFailed("deliberate")

    with pytest.raises(RuleFailed) as caught:
        task_key("f", (), {"b": Broken()})
    assert any("argument 'b'" in note for note in caught.value.__notes__)


# MARK: code fingerprints

APP_SOURCE = """
def app(values, scale=2, *, label="run"):
    '''Scales the values it is given.'''
    factor = scale * 10
    def inner(v):
        return v * factor
    return [inner(v) for v in values if v not in {"skip", "drop", "none"}]
"""


def test_an_identical_redefinition_keeps_its_fingerprint_wherever_it_sits():
    assert code_fingerprint(define(APP_SOURCE, "app")) == code_fingerprint(define(APP_SOURCE, "app", 40))


@pytest.mark.parametrize("edit", [
    ("scale * 10", "scale * 11"),                        # a constant
    ("v * factor", "v + factor"),                        # bytecode of a nested function
    ("scale=2", "scale=3"),                              # a positional default
    ('label="run"', 'label="walk"'),                     # a keyword-only default
    ('"drop"', '"dropped"'),                             # a frozenset constant
    ("Scales the values", "Scales values"),              # the docstring
    ("factor = scale * 10\n", "factor = scale * 10\n    del label\n    label = 1\n"),
])
def test_an_edited_app_gets_another_fingerprint(edit):
    old, new = edit
    assert old in APP_SOURCE
    assert code_fingerprint(define(APP_SOURCE, "app")) != code_fingerprint(define(APP_SOURCE.replace(old, new), "app"))


def test_running_an_app_does_not_change_its_fingerprint():
    app = define(APP_SOURCE, "app")
    before = code_fingerprint(app)
    for _ in range(2000):  # enough for the interpreter to specialise its bytecode
        app([1, 2, "skip"][:2])
    assert code_fingerprint(app) == before


FINGERPRINT_SCRIPT = """
import json
from sprig.code_fingerprint import code_fingerprint
import app_v1
print(json.dumps(code_fingerprint(app_v1.app)))
"""


def test_fingerprints_are_the_same_in_two_fresh_processes(tmp_path):
    (tmp_path / "app_v1.py").write_text("\n\n# moved down\n" + textwrap.dedent(APP_SOURCE))
    first = json.loads(run_python(FINGERPRINT_SCRIPT, hash_seed="3", cwd=tmp_path))
    second = json.loads(run_python(FINGERPRINT_SCRIPT, hash_seed="4", cwd=tmp_path))
    assert first == second == code_fingerprint(define(APP_SOURCE, "app"))


def test_a_wrapped_function_counts_the_wrapper_and_the_body():
    import functools

    def logged(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **kwargs)
        return wrapper

    body = define(APP_SOURCE, "app")
    edited = define(APP_SOURCE.replace("scale * 10", "scale * 11"), "app")
    assert code_fingerprint(logged(body)) not in (code_fingerprint(body), code_fingerprint(logged(edited)))
    assert code_fingerprint(logged(body)) == code_fingerprint(logged(define(APP_SOURCE, "app")))


def test_an_app_object_is_fingerprinted_by_its_function():
    from sprig.app_submission import BashApp

    def template(name):
        return f"echo {name}"

    def edited(name):
        return f"echo hello {name}"

    assert code_fingerprint(BashApp(template)) == code_fingerprint(template)
    assert code_fingerprint(BashApp(template)) != code_fingerprint(BashApp(edited))


def test_what_has_no_code_or_an_unhashable_default_is_refused_by_name():
    with pytest.raises(TypeError, match="cannot fingerprint the code of app 'len'"):
        code_fingerprint(len)

    def app(x, helper=NoRule()):
        return x

    with pytest.raises(UnmemoizableError, match=r"app 'app': the default of parameter 'helper' has type "
                                                r"test_memo_keys.NoRule"):
        code_fingerprint(app, "app")


# MARK: Parsl's names

PARSL_NAMES_SCRIPT = """
import parsl
from parsl.dataflow.memoization import id_for_memo, BasicMemoizer, Memoizer
import sprig.memo_keys, sprig.memoizer
print(id_for_memo is sprig.memo_keys.id_for_memo is parsl.dataflow.memoization.id_for_memo)
print(BasicMemoizer is sprig.memoizer.BasicMemoizer, issubclass(BasicMemoizer, Memoizer))
"""


def test_parsl_names_id_for_memo_and_the_memoizers():
    lines = run_python(PARSL_NAMES_SCRIPT, hash_seed="0").splitlines()
    assert lines == ["True", "True True"]


def test_unmemoizable_error_survives_pickling():
    import pickle

    from sprig.memo_keys import UnmemoizableError, task_key

    class Odd:
        pass

    try:
        task_key("f", (Odd(),), {})
    except UnmemoizableError as error:
        original = error
    copy = pickle.loads(pickle.dumps(original))
    assert isinstance(copy, UnmemoizableError) and isinstance(copy, ValueError)
    assert str(copy) == str(original) and "argument 0 (positional) has type" in str(copy)
