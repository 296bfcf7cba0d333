"""The two script-facing contracts, checked from the Python side against the shared cases in
``contracts/`` (Swift Testing checks the Swift side against the same files; see
``contracts/README-scripting.md`` and ``docs/SCRIPTING-CONTRACT.md``).

- ``contracts/config-spec/NAME.json``: the Python construction in ``python`` gives exactly ``spec``
  from ``Config.to_spec()``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import sprig.config

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
