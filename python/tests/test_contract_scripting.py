"""The two script-facing contracts, checked from the Python side against the shared cases in
``contracts/`` (Swift Testing checks the Swift side against the same files; see
``contracts/README-scripting.md`` and ``docs/SCRIPTING-CONTRACT.md``).

- ``contracts/config-spec/NAME.json``: the Python construction in ``python`` gives exactly ``spec``
  from ``Config.to_spec()``.
- ``contracts/failures/NAME.json``: ``exception_from_failure(dict)`` builds the exception that
  ``python`` describes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import sprig.config
from sprig.errors import exception_from_failure

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
CALLABLE = "<callable>"


def _cases(folder: str) -> list[Path]:
    return sorted((CONTRACTS / folder).glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _typed(value: Any) -> Any:
    """``value`` with every scalar tagged by its type, so that ``1``, ``1.0`` and ``True`` differ."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


# MARK: config-spec

CONFIG_CASES = _cases("config-spec")
CONFIG_NAMES = {name: getattr(sprig.config, name) for name in dir(sprig.config) if not name.startswith("_")}


def test_the_config_spec_folder_has_cases() -> None:
    assert len(CONFIG_CASES) >= 10


@pytest.mark.parametrize("path", [p for p in CONFIG_CASES if _load(p)["python"] is not None], ids=lambda p: p.stem)
def test_to_spec_gives_the_case_spec(path: Path) -> None:
    case = _load(path)
    config = eval(case["python"], dict(CONFIG_NAMES))  # the case's own short expression
    spec = config.to_spec()
    shown = {key: CALLABLE if callable(value) else value for key, value in spec.items()}
    assert _typed(shown) == _typed(case["spec"])
    json.dumps({key: value for key, value in spec.items() if key != "retry_handler"})  # the rest is plain JSON


@pytest.mark.parametrize("path", CONFIG_CASES, ids=lambda p: p.stem)
def test_every_case_is_well_formed(path: Path) -> None:
    case = _load(path)
    assert isinstance(case.get("about"), str) and case["about"]
    assert isinstance(case["spec"], dict)
    assert ("decoded" in case) != ("error" in case), "a case has either the decoded values or the error"
    if "decoded" in case:
        # Swift fills in every key: the decoded values name each key a spec may carry.
        for executor in case["decoded"]["executors"]:
            assert executor["kind"] in ("threads", "htex")
        assert set(case["spec"]) - {"retry_handler"} <= set(case["decoded"])


# MARK: failures

FAILURE_CASES = _cases("failures")


def _live(value: Any) -> Any:
    """The dict as the engine hands it over: the cases' markers become bytes and exception objects."""
    if isinstance(value, list):
        return [_live(item) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"bytes_base64"}:
        import base64

        return base64.b64decode(value["bytes_base64"])
    if set(value) == {"python_exception"}:
        import builtins

        type_name, message = value["python_exception"]
        return getattr(builtins, type_name)(message)
    return {key: _live(item) for key, item in value.items()}


def test_the_failures_folder_has_cases() -> None:
    assert len(FAILURE_CASES) >= 15


@pytest.mark.parametrize("path", FAILURE_CASES, ids=lambda p: p.stem)
def test_exception_from_failure_builds_what_the_case_says(path: Path) -> None:
    case = _load(path)
    expected = case["python"]
    exc = exception_from_failure(_live(case["dict"]))
    assert type(exc).__name__ == expected["class"], exc
    if "str" in expected:
        assert str(exc) == expected["str"]
    for name, value in expected.get("attributes", {}).items():
        assert getattr(exc, name) == value, name
    if "isinstance" in expected:
        import builtins

        assert isinstance(exc, getattr(builtins, expected["isinstance"]))
    if "notes_contain" in expected:
        assert any(expected["notes_contain"] in note for note in getattr(exc, "__notes__", []))
    if "outputs" in expected:
        assert [getattr(f, "filepath", f) for f in exc.outputs] == expected["outputs"]
    if "cause_class" in expected:
        assert type(exc.__cause__).__name__ == expected["cause_class"]
    if "failure_classes" in expected:
        assert [type(inner).__name__ for inner in exc.failures] == expected["failure_classes"]


@pytest.mark.parametrize("path", FAILURE_CASES, ids=lambda p: p.stem)
def test_every_failure_dict_has_a_kind_and_a_message(path: Path) -> None:
    failure = _load(path)["dict"]
    assert isinstance(failure["kind"], str) and isinstance(failure["message"], str)
