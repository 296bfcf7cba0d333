#!/usr/bin/python3.11
"""Writes the golden payload vectors of this folder (PROTOCOL.md, "Payloads"): NAME.json (what a
payload holds) and NAME.bin (its exact bytes), with plain ``struct`` calls, independent of either
side's encoder. Run it only when the payload layout changes (then bump the protocol version).

    /usr/bin/python3.11 contracts/payloads/generate.py
"""

import json
import pickle
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTOCOL_VERSION = 4
PLACES = {"inline": 0, "segment": 1}
FLAGS = {"writable": 1, "persistent": 2}
# Inline buffers of any length are valid (encoders send only those of 64 KiB or more out of band;
# a short one keeps the vector readable). Segment lengths are what the segment must hold.
BUFFER = bytes(range(16))
SEGMENT_LENGTH = 1 << 20


def pickle_of(source):
    """Protocol 5 pickle opcodes, by hand: PROTO 5, then `source` (a list of opcode bytes), STOP."""
    return b"\x80\x05" + b"".join(source) + b"."


def persistent(index, kind):
    """BINPERSID of the persistent id ("sprig.buffer", index, kind), pickled inline."""
    pid = pickle.dumps(("sprig.buffer", index, kind), protocol=5)[2:-1]  # without PROTO and STOP
    return pid + b"Q"


CASES = {
    # Two bytes objects: one inline, one in a segment (the same value: the vector stays small).
    "two_bytes": {
        "buffers": [{"place": "inline", "flags": ["persistent"], "data_hex": BUFFER.hex()},
                    {"place": "segment", "flags": ["persistent"], "length": SEGMENT_LENGTH,
                     "name": "sprig-4242-0123456789ab-4243-0123456789abcdef"}],
        # (b"...", b"...") as a tuple of the two persistent ids
        "pickle": pickle_of([persistent(0, "bytes"), persistent(1, "bytes"), b"\x86"]),
        "value": "a tuple of two bytes objects: 16 inline, 1 MiB in the segment",
    },
    # A bytearray inline, writable.
    "bytearray_inline": {
        "buffers": [{"place": "inline", "flags": ["writable", "persistent"], "data_hex": BUFFER.hex()}],
        "pickle": pickle_of([persistent(0, "bytearray")]),
        "value": "bytearray(range(16))",
    },
}


def envelope(case):
    out = struct.pack("<4sI", b"SPRO", len(case["buffers"]))
    for buffer in case["buffers"]:
        flags = sum(FLAGS[flag] for flag in buffer["flags"])
        if buffer["place"] == "inline":
            data = bytes.fromhex(buffer["data_hex"])
            out += struct.pack("<BBQ", PLACES["inline"], flags, len(data)) + data
        else:
            name = buffer["name"].encode("ascii")
            out += struct.pack("<BBQB", PLACES["segment"], flags, buffer["length"], len(name)) + name
    return out + case["pickle"]


def main():
    for name, case in CASES.items():
        described = {"protocol": PROTOCOL_VERSION, "buffers": case["buffers"], "pickle_hex": case["pickle"].hex(),
                     "value": case["value"]}
        (HERE / f"{name}.json").write_text(json.dumps(described, indent=2) + "\n")
        (HERE / f"{name}.bin").write_bytes(envelope(case))


if __name__ == "__main__":
    main()
