#!/usr/bin/python3.11
"""Writes the golden frame vectors of this folder: NAME.json (what a frame means) and NAME.bin
(its exact bytes), with plain ``struct`` calls that follow PROTOCOL.md, independent of either
side's encoder. Run it only when the protocol changes (then bump its version); both sides' tests
compare their own encoders and decoders against the files it wrote.

    /usr/bin/python3.11 contracts/frames/generate.py
"""

import json
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTOCOL_VERSION = 4
TYPES = {"HELLO": 1, "HELLO_ACK": 2, "TASKS": 3, "RESULTS": 4, "HEARTBEAT": 5, "SHUTDOWN": 6, "KILL_TASK": 7, "STATS": 8}
# A local block's control socket (protocol 4, PROTOCOL.md "Two-hop local blocks"): JSON bodies.
CONTROL_TYPES = {"WORKER_READY": 10, "WORKER_ENDED": 11, "KILL_WORKER": 12, "WORKER_SILENT": 13}
TYPES.update(CONTROL_TYPES)
KINDS = {"PYTHON": 0, "BASH_FROM_PYTHON": 1, "BASH": 2}
STATUSES = {"OK": 0, "FAILED": 1, "WORKER_LOST": 2, "SKIPPED": 3, "STARTED": 4, "RESOURCE": 6}

# Opaque blobs: the pickles (protocol 5) of operator.add, of ((2, 3), {}) and of 5.
FN = bytes.fromhex("80059515000000000000008c095f6f70657261746f72948c036164649493942e")
CALL = bytes.fromhex("8005950b000000000000004b024b0386947d9486942e")
FIVE = bytes.fromhex("80054b052e")


def text(value):
    """JSON text as the Python side writes it (json.dumps defaults)."""
    return json.dumps(value)


def blob(entry, name):
    """The bytes of an entry's blob, given as NAME_hex or NAME_text."""
    if name + "_hex" in entry:
        return bytes.fromhex(entry[name + "_hex"])
    return entry.get(name + "_text", "").encode("utf-8")


def body_of(case):
    kind = case["type"]
    if kind in ("HELLO", "HELLO_ACK", "STATS") or kind in CONTROL_TYPES:
        return case["text"].encode("utf-8")
    if kind in ("HEARTBEAT", "SHUTDOWN"):
        return b""
    if kind == "KILL_TASK":
        return struct.pack("<Q", case["task_id"])
    if kind == "TASKS":
        out = struct.pack("<I", len(case["tasks"]))
        for task in case["tasks"]:
            fn, options, payload = blob(task, "fn"), blob(task, "options"), blob(task, "payload")
            out += struct.pack("<QBQI", task["task_id"], KINDS[task["kind"]], task["fn_key"], len(fn)) + fn
            out += struct.pack("<I", len(options)) + options + struct.pack("<I", len(payload)) + payload
        return out
    if kind == "RESULTS":
        out = struct.pack("<I", len(case["results"]))
        for result in case["results"]:
            data = blob(result, "data")
            out += struct.pack("<QBI", result["task_id"], STATUSES[result["status"]], len(data)) + data
        return out
    raise ValueError(kind)


def packed_sample(sample):
    status = sample["psutil_process_status"].encode("utf-8")
    layout = "<" + "".join(code for _, code in SAMPLE_LAYOUT) + "B"
    return struct.pack(layout, *(sample[name] for name, _ in SAMPLE_LAYOUT), len(status)) + status


def failure(kind, type_name, message, **extra):
    return text({"kind": kind, "type": type_name, "message": message, "traceback": "", **extra})


HELLO = {"protocol": PROTOCOL_VERSION, "python": "3.11", "python_full": "3.11.2", "serializer": "cloudpickle",
         "serializer_version": "2.2.0", "host": "node1", "pid": 1234, "workers": 2, "block": "0",
         "executable": "/usr/bin/python3.11"}
# A RESOURCE entry's data: a worker's sample, keyed by the columns of Parsl's resource table, and
# packed in this order (PROTOCOL.md, "RESOURCE"), then the status name.
SAMPLE_LAYOUT = (("timestamp", "d"), ("psutil_process_time_user", "d"), ("psutil_process_time_system", "d"),
                 ("psutil_process_memory_percent", "d"), ("psutil_process_memory_resident", "Q"),
                 ("psutil_process_memory_virtual", "Q"), ("psutil_process_disk_read", "Q"),
                 ("psutil_process_disk_write", "Q"), ("psutil_process_num_ctx_switches_voluntary", "Q"),
                 ("psutil_process_num_ctx_switches_involuntary", "Q"), ("psutil_process_pid", "I"),
                 ("psutil_process_num_threads", "I"), ("psutil_process_children_count", "I"), ("psutil_cpu_num", "i"))
SAMPLE = {"psutil_process_pid": 4321, "psutil_process_time_user": 1.25, "psutil_process_time_system": 0.5,
          "psutil_process_memory_resident": 25165824, "psutil_process_memory_virtual": 104857600,
          "psutil_process_memory_percent": 0.125, "psutil_process_num_threads": 3, "psutil_process_disk_read": 8192,
          "psutil_process_disk_write": 4096, "psutil_process_children_count": 1, "psutil_process_status": "running",
          "psutil_cpu_num": 1, "psutil_process_num_ctx_switches_voluntary": 40,
          "psutil_process_num_ctx_switches_involuntary": 7, "timestamp": 1767225600.25}
PYTHON_TRACEBACK = 'Traceback (most recent call last):\n  File "apps.py", line 2, in divide\nZeroDivisionError: division by zero\n'

CASES = {
    "hello": {"type": "HELLO", "text": text(HELLO)},
    "hello_ack_ok": {"type": "HELLO_ACK", "text": text({"ok": True})},
    "hello_ack_refused": {"type": "HELLO_ACK", "text": text({"ok": False, "error": "Python 3.12, expected 3.11"})},
    "tasks_empty": {"type": "TASKS", "tasks": []},
    "tasks_python": {"type": "TASKS", "tasks": [
        {"task_id": 1, "kind": "PYTHON", "fn_key": 7, "fn_hex": FN.hex(), "options_text": "", "payload_hex": CALL.hex()},
    ]},
    "tasks_every_kind": {"type": "TASKS", "tasks": [
        {"task_id": 2, "kind": "PYTHON", "fn_key": 7, "fn_hex": "", "options_text": "", "payload_hex": CALL.hex()},
        {"task_id": 3, "kind": "BASH_FROM_PYTHON", "fn_key": 8, "fn_hex": FN.hex(),
         "options_text": text({"stdout": ["out.txt", "w"], "stderr": None, "outputs": ["out.txt"]}),
         "payload_hex": CALL.hex()},
        {"task_id": 2 ** 40 + 5, "kind": "BASH", "fn_key": 0, "fn_hex": "",
         "options_text": text({"command": "echo caf\u00e9 > x", "stdout": "log.txt", "stderr": ["log.txt", "a"],
                               "outputs": []}),
         "payload_hex": ""},
    ]},
    "results_ready": {"type": "RESULTS", "results": []},
    "results_ok_and_started": {"type": "RESULTS", "results": [
        {"task_id": 1, "status": "OK", "data_hex": FIVE.hex()},
        {"task_id": 2, "status": "STARTED", "data_hex": struct.pack("<I", 4321).hex()},
    ]},
    # From a manager of an earlier Sprig, STARTED without the worker's pid: still read.
    "results_started_without_pid": {"type": "RESULTS", "results": [{"task_id": 3, "status": "STARTED", "data_hex": ""}]},
    # With --resource-interval: a sample of the try's worker ahead of the try's result.
    "results_resource": {"type": "RESULTS", "results": [
        {"task_id": 2, "status": "RESOURCE", "data_hex": packed_sample(SAMPLE).hex(), "sample": SAMPLE},
        {"task_id": 2, "status": "OK", "data_hex": FIVE.hex()},
    ]},
    "results_failures": {"type": "RESULTS", "results": [
        {"task_id": 10, "status": "FAILED", "data_text": text({
            "kind": "python", "type": "ZeroDivisionError", "message": "division by zero",
            "traceback": PYTHON_TRACEBACK})},
        {"task_id": 11, "status": "FAILED",
         "data_text": failure("bash_exit", "BashExitFailure", "bash command exited with code 3", exit_code=3)},
        {"task_id": 12, "status": "FAILED", "data_text": failure(
            "bad_std_stream", "BadStdStreamFile", "cannot open /dev/null/x: Not a directory", path="/dev/null/x")},
        {"task_id": 13, "status": "FAILED", "data_text": failure(
            "missing_outputs", "MissingOutputs", "missing outputs: b.txt", missing=["b.txt"])},
        {"task_id": 14, "status": "FAILED", "data_text": failure(
            "bad_command", "BadCommand", "the function of bash app task 14 returned a int, not a str holding the command")},
        {"task_id": 15, "status": "FAILED", "data_text": failure(
            "serialization", "KeyError", "task 15: function key 9 was never sent to this manager")},
    ]},
    "results_worker_lost": {"type": "RESULTS", "results": [
        {"task_id": 17, "status": "WORKER_LOST", "data_text": text({
            "message": "worker 1 (pid 1234) on host node1 died (signal 9) while running task 17", "worker": 1,
            "pid": 1234, "signal": 9, "exit_code": None})},
    ]},
    "results_skipped": {"type": "RESULTS", "results": [{"task_id": 18, "status": "SKIPPED", "data_hex": ""}]},
    "heartbeat": {"type": "HEARTBEAT"},
    "shutdown": {"type": "SHUTDOWN"},
    "kill_task": {"type": "KILL_TASK", "task_id": 17},
    "stats": {"type": "STATS", "text": text({"workers": 2, "queued": 0, "running": 3, "worker_pids": [11, 12],
                                             "block": "0", "kills_pending": 0})},
    # The control socket. WORKER_READY travels with the worker's two pipe ends (SCM_RIGHTS),
    # which a vector cannot hold: its bytes are the frame alone.
    "control_worker_ready": {"type": "WORKER_READY", "text": text({"worker": 0, "pid": 4321})},
    "control_worker_ended": {"type": "WORKER_ENDED", "text": text({
        "worker": 1, "pid": 4322, "signal": 9, "exit_code": None, "words": "died (signal 9)", "lost_reason": None})},
    "control_worker_ended_hung": {"type": "WORKER_ENDED", "text": text({
        "worker": 0, "pid": 4321, "signal": 9, "exit_code": None, "words": "died (signal 9)",
        "lost_reason": "stopped answering (using no CPU, silent for 12.5 s)"})},
    "control_kill_worker": {"type": "KILL_WORKER", "text": text({"worker": 1, "pid": 4322, "reason": "it runs a killed task"})},
    "control_worker_silent": {"type": "WORKER_SILENT", "text": text({"worker": 0, "pid": 4321, "silence": 12.5})},
}


def main():
    for name, case in CASES.items():
        body = body_of(case)
        (HERE / (name + ".bin")).write_bytes(struct.pack("<IB", len(body), TYPES[case["type"]]) + body)
        described = {"protocol": PROTOCOL_VERSION, "type": case["type"], "type_code": TYPES[case["type"]], **case}
        (HERE / (name + ".json")).write_text(json.dumps(described, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
