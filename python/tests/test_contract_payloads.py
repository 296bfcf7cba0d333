"""The golden payload vectors in ``contracts/payloads/`` (see contracts/README.md): sprig.serialize
reads each envelope as described, and loads those it can without segments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sprig import serialize
from sprig.wire import PROTOCOL_VERSION

PAYLOADS = Path(__file__).resolve().parents[2] / "contracts" / "payloads"
CASES = sorted(path.stem for path in PAYLOADS.glob("*.json"))
FLAGS = {"writable": serialize.FLAG_WRITABLE, "persistent": serialize.FLAG_PERSISTENT}


def test_there_are_cases() -> None:
    assert {"two_bytes", "bytearray_inline"} <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_envelope_reads_as_described(name: str) -> None:
    case = json.loads((PAYLOADS / f"{name}.json").read_text())
    data = (PAYLOADS / f"{name}.bin").read_bytes()
    assert case["protocol"] == PROTOCOL_VERSION
    buffers, start = serialize._parse_envelope(data)
    assert len(buffers) == len(case["buffers"])
    for found, described in zip(buffers, case["buffers"]):
        assert found.flags == sum(FLAGS[flag] for flag in described["flags"])
        if described["place"] == "inline":
            assert found.place == serialize.PLACE_INLINE
            assert data[found.at : found.at + found.length].hex() == described["data_hex"]
        else:
            assert found.place == serialize.PLACE_SEGMENT
            assert (found.name, found.length) == (described["name"], described["length"])
    assert data[start:].hex() == case["pickle_hex"]
    assert serialize.segment_names(data) == [b["name"] for b in case["buffers"] if b["place"] == "segment"]


def test_inline_envelope_loads() -> None:
    value = serialize.loads((PAYLOADS / "bytearray_inline.bin").read_bytes())
    assert type(value) is bytearray and value == bytearray(range(16))


def test_an_envelope_whose_segment_is_missing_names_it() -> None:
    with pytest.raises(serialize.SerializationError, match="sprig-4242-0123456789ab-4243-0123456789abcdef"):
        serialize.loads((PAYLOADS / "two_bytes.bin").read_bytes())
