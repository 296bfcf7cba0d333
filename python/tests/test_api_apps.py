"""sprig.api without the engine: decorating works anywhere; calling apps and loading configs say
that scripts run under ``sprig run``. (With the engine, the lead's Swift tests run real scripts.)"""

from __future__ import annotations

import inspect
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import sprig
from sprig import api
from sprig.api import BashApp, JoinApp, PythonApp, bash_app, join_app, python_app
from sprig.errors import EngineNotAvailableError

PYTHON_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def no_engine():
    assert "_sprig_engine" not in sys.modules, "these tests run without the engine"
    yield


def multiply(a, b):
    """Multiplies."""
    return a * b


def test_bare_decorator_keeps_name_doc_and_wrapped():
    app = python_app(multiply)
    assert isinstance(app, PythonApp) and app.kind == "python"
    assert app.__name__ == "multiply"
    assert app.__qualname__ == "multiply"
    assert app.__doc__ == "Multiplies."
    assert app.__module__ == __name__
    assert app.__wrapped__ is multiply and app.func is multiply
    assert app.app_name == f"{__name__}.multiply"
    assert str(inspect.signature(app)) == "(a, b)"
    assert app.executors is None
    assert repr(app) == f"<PythonApp {__name__}.multiply>"


def test_decorator_with_options():
    @python_app(executors=["htex"], cache=False, data_flow_kernel=None, ignore_for_cache=["b"])
    def add(a, b):
        """Adds."""
        return a + b

    assert add.__name__ == "add" and add.__doc__ == "Adds."
    assert add.executors == ["htex"]
    assert add.app_name == f"{__name__}.test_decorator_with_options.<locals>.add"


def test_empty_parentheses_work():
    @bash_app()
    def echo():
        return "echo hi"

    assert isinstance(echo, BashApp) and echo.kind == "bash" and echo.__name__ == "echo"


def test_executor_labels():
    assert python_app(multiply, executors="all").executors is None
    assert python_app(multiply, executors="threads").executors == ["threads"]
    assert python_app(multiply, executors=("a", "b")).executors == ["a", "b"]
    with pytest.raises(TypeError, match="executor labels"):
        python_app(multiply, executors=[1])


def test_join_app_takes_no_executors():
    @join_app
    def fan_out():
        return []

    assert isinstance(fan_out, JoinApp) and fan_out.kind == "join" and fan_out.executors is None
    with pytest.raises(TypeError):
        join_app(multiply, executors=["x"])  # type: ignore[call-arg]


def test_main_module_apps_are_named_by_qualname():
    def f():
        pass

    f.__module__ = "__main__"
    assert api.app_name(f) == "test_main_module_apps_are_named_by_qualname.<locals>.f"
    assert api.app_name(print) == "print"


def test_not_callable_is_refused():
    with pytest.raises(TypeError, match="not callable"):
        python_app(42)  # type: ignore[arg-type]


def test_cache_is_silent_and_asked_of_the_engine_for_python_bash_and_join_apps():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        python_app(multiply, cache=False)
        bash_app(multiply, cache=True)
        by_code = python_app(multiply, cache="code", ignore_for_cache=["b"])
    assert caught == []
    assert by_code.cache == "code" and by_code._cache_spec == (["b"], True)
    assert python_app(multiply)._cache_spec is None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        @join_app(cache=True, ignore_for_cache=["y"])
        def cached(x, y=0):
            return x
    assert caught == []
    assert cached._cache_spec == (["y"], False)


@pytest.mark.parametrize("bad", [1, "yes", None])
def test_cache_takes_true_false_or_code(bad):
    if bad is None:
        with pytest.raises(TypeError, match="ignore_for_cache"):
            python_app(multiply, cache=True, ignore_for_cache="b")
        return
    with pytest.raises(TypeError, match="cache must be True, False or 'code'"):
        python_app(multiply, cache=bad)


@pytest.mark.parametrize("decorator", [python_app, bash_app, join_app])
def test_calling_an_app_without_the_engine_says_to_use_sprig_run(decorator):
    app = decorator(multiply)
    with pytest.raises(RuntimeError, match=r"sprig run script\.py") as caught:
        app(5, 9)
    assert isinstance(caught.value, EngineNotAvailableError)


def test_load_dfk_and_waiting_need_the_engine():
    with pytest.raises(EngineNotAvailableError, match="sprig run"):
        api.load()
    with pytest.raises(EngineNotAvailableError):
        api.load(api.Config())
    with pytest.raises(EngineNotAvailableError):
        api.dfk()
    with pytest.raises(EngineNotAvailableError):
        api.wait_for_current_tasks()
    api.clear()  # nothing to clear: no error


def test_load_checks_its_argument_type():
    with pytest.raises(TypeError, match="config must be a sprig Config"):
        api.load({"executors": []})  # type: ignore[arg-type]


def test_sprig_exports_the_api_lazily():
    code = ("import sys, sprig; "
            "assert 'sprig.api' not in sys.modules and 'concurrent.futures' not in sys.modules; "
            "sprig.python_app; assert 'sprig.api' in sys.modules; print(sprig.__version__)")
    run = subprocess.run([sys.executable, "-c", code], cwd=PYTHON_DIR, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == sprig.__version__


def test_sprig_top_level_names():
    assert sprig.python_app is python_app and sprig.bash_app is bash_app and sprig.join_app is join_app
    assert sprig.load is api.load and sprig.clear is api.clear and sprig.dfk is api.dfk
    assert sprig.wait_for_current_tasks is api.wait_for_current_tasks
    from sprig.config import Config, HighThroughputExecutor, LocalChannel, LocalProvider, ThreadPoolExecutor
    from sprig.futures import AppFuture, DataFuture

    assert (sprig.Config, sprig.ThreadPoolExecutor, sprig.HighThroughputExecutor, sprig.LocalProvider,
            sprig.LocalChannel) == (Config, ThreadPoolExecutor, HighThroughputExecutor, LocalProvider, LocalChannel)
    assert (sprig.AppFuture, sprig.DataFuture) == (AppFuture, DataFuture)
    for name in sprig.__all__:
        assert getattr(sprig, name) is not None
    with pytest.raises(AttributeError):
        sprig.not_a_thing  # noqa: B018
