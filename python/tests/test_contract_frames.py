"""The golden frame vectors in ``contracts/frames/`` (see contracts/README.md): Python's encoder
(sprig.protocol) makes exactly each ``NAME.bin`` from ``NAME.json``, and its decoder (FrameReader,
parse_tasks, parse_results) reads each ``.bin`` back to the description."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sprig import protocol as P
from sprig import resources
from sprig.wire import CONTROL_FRAME_NAMES
from sprig.worker_handoff import parse_control

FRAMES = Path(__file__).resolve().parents[2] / "contracts" / "frames"
CASES = sorted(path.stem for path in FRAMES.glob("*.json"))
# The control socket's frames (a local block on the two-hop path) are vectors here too.
ALL_FRAME_NAMES = {**P.FRAME_NAMES, **CONTROL_FRAME_NAMES}
TYPE_CODES = {name: code for code, name in ALL_FRAME_NAMES.items()}
KIND_CODES = {name: code for code, name in P.KIND_NAMES.items()}
STATUS_CODES = {name: code for code, name in P.STATUS_NAMES.items()}


def load(name: str) -> tuple[dict, bytes]:
    return json.loads((FRAMES / f"{name}.json").read_text()), (FRAMES / f"{name}.bin").read_bytes()


def blob(entry: dict, name: str) -> bytes:
    """An entry's blob: NAME_hex (bytes) or NAME_text (UTF-8), exactly one of them."""
    given = [key for key in (f"{name}_hex", f"{name}_text") if key in entry]
    assert len(given) == 1, f"{name}: give exactly one of {name}_hex, {name}_text"
    return bytes.fromhex(entry[given[0]]) if given[0].endswith("_hex") else entry[given[0]].encode("utf-8")


def describe_blob(entry: dict, name: str, data: memoryview) -> object:
    """The decoded blob in the form the description uses for it."""
    return bytes(data).hex() if f"{name}_hex" in entry else bytes(data).decode("utf-8")


def encode(case: dict) -> bytes:
    kind = case["type"]
    code = TYPE_CODES[kind]
    if kind in ("HELLO", "HELLO_ACK", "STATS") or code in CONTROL_FRAME_NAMES:
        return P.frame(code, case["text"].encode("utf-8"))
    if kind in ("HEARTBEAT", "SHUTDOWN"):
        return P.frame(code)
    if kind == "KILL_TASK":
        return P.frame(code, P.U64.pack(case["task_id"]))
    if kind == "TASKS":
        entries = [(t["task_id"], KIND_CODES[t["kind"]], t["fn_key"], blob(t, "fn"), blob(t, "options"),
                    blob(t, "payload")) for t in case["tasks"]]
        return P.frame(code, P.encode_tasks(entries))
    if kind == "RESULTS":
        entries = [(r["task_id"], STATUS_CODES[r["status"]], blob(r, "data")) for r in case["results"]]
        return P.frame(code, P.encode_results(entries))
    raise AssertionError(f"no encoder for {kind}")


def read_frames(data: bytes) -> list[tuple[int, memoryview]]:
    """The frames FrameReader reads from a pipe holding ``data``."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, data)  # (every vector is far below a pipe's capacity)
        os.close(write_end)
        write_end = -1
        reader = P.FrameReader(read_end)
        frames: list[tuple[int, memoryview]] = []
        while True:
            got = reader.read()
            if got is None:
                return frames
            frames.extend(got)
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def decode(case: dict, data: bytes) -> dict:
    """The description of the one frame in ``data``, shaped like ``case`` (its blob forms)."""
    if data[4] in CONTROL_FRAME_NAMES:  # one socket message: what the manager's HandoffLink reads
        code, fields = parse_control(data)
        assert fields == json.loads(case["text"])
        return {"protocol": P.PROTOCOL_VERSION, "type": CONTROL_FRAME_NAMES[code], "type_code": code,
                "text": bytes(data[5:]).decode("utf-8")}
    ((code, body),) = read_frames(data)
    kind = P.FRAME_NAMES[code]
    out: dict = {"protocol": P.PROTOCOL_VERSION, "type": kind, "type_code": code}
    if kind in ("HELLO", "HELLO_ACK", "STATS"):
        out["text"] = bytes(body).decode("utf-8")
    elif kind in ("HEARTBEAT", "SHUTDOWN"):
        assert len(body) == 0
    elif kind == "KILL_TASK":
        assert len(body) == 8
        (out["task_id"],) = P.U64.unpack_from(body, 0)
    elif kind == "TASKS":
        out["tasks"] = []
        for record, want in zip(P.parse_tasks(body), case["tasks"]):
            task = {"task_id": record.task_id, "kind": P.KIND_NAMES[record.kind], "fn_key": record.fn_key}
            for name, view in (("fn", record.fn), ("options", record.options()), ("payload", record.payload())):
                task[f"{name}_hex" if f"{name}_hex" in want else f"{name}_text"] = describe_blob(want, name, view)
            out["tasks"].append(task)
        assert len(out["tasks"]) == len(case["tasks"]) == len(P.parse_tasks(body))
    elif kind == "RESULTS":
        records = P.parse_results(body)
        assert len(records) == len(case["results"])
        out["results"] = [{"task_id": r.task_id, "status": P.STATUS_NAMES[r.status],
                           ("data_hex" if "data_hex" in want else "data_text"): describe_blob(want, "data", r.data)}
                          for r, want in zip(records, case["results"])]
        for result, record in zip(out["results"], records):
            if record.status == P.STATUS_RESOURCE:
                result["sample"] = resources.decode(record.data)
    return out


def test_there_are_vectors() -> None:
    assert len(CASES) >= 8 and all((FRAMES / f"{name}.bin").exists() for name in CASES)


@pytest.mark.parametrize("name", CASES)
def test_python_encodes_the_description_to_the_exact_bytes(name: str) -> None:
    case, data = load(name)
    assert case["protocol"] == P.PROTOCOL_VERSION
    assert case["type_code"] == TYPE_CODES[case["type"]]
    assert encode(case) == data


@pytest.mark.parametrize("name", CASES)
def test_python_decodes_the_bytes_to_the_description(name: str) -> None:
    case, data = load(name)
    assert decode(case, data) == case
    if "text" in case:
        json.loads(case["text"])  # JSON bodies are JSON


def test_every_frame_type_status_kind_and_failure_kind_has_a_vector() -> None:
    cases = [load(name)[0] for name in CASES]
    assert {case["type"] for case in cases} == set(ALL_FRAME_NAMES.values())
    results = [r for case in cases for r in case.get("results", [])]
    assert {r["status"] for r in results} == set(P.STATUS_NAMES.values())
    assert {t["kind"] for case in cases for t in case.get("tasks", [])} == set(P.KIND_NAMES.values())
    failures = [json.loads(r["data_text"]) for r in results if r["status"] == "FAILED"]
    assert {f["kind"] for f in failures} == set(P.FAILURE_KINDS)
    for info in failures:
        assert {"kind", "type", "message", "traceback"} <= set(info)


def test_started_entries_carry_the_worker_pid_or_nothing() -> None:
    started = [r for name in CASES for r in load(name)[0].get("results", []) if r["status"] == "STARTED"]
    assert {len(blob(r, "data")) for r in started} == {0, 4}  # a u32 pid; empty from managers before it


def test_resource_vectors_have_the_fields_workers_send() -> None:
    entries = [r for name in CASES for r in load(name)[0].get("results", []) if r["status"] == "RESOURCE"]
    assert entries
    sent = resources.decode(resources.Sampler(1.0).sample(descendants=True))
    for entry in entries:
        sample = entry["sample"]
        assert {key: type(value) for key, value in sample.items()} == {key: type(value) for key, value in sent.items()}
        assert resources.encode(*(sample[name] for name in P.RESOURCE_FIELDS), sample["psutil_process_status"]) == blob(entry, "data")
        # Bytes past the status are fields a later Sprig added: this one reads what it knows.
        assert resources.decode(blob(entry, "data") + b"later") == sample
