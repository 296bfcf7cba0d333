"""The manager protocol's numbers, in one place: its version, frame types, task kinds, result
statuses and failure kinds (PROTOCOL.md is the spec; ``contracts/frames/`` holds vectors).

Imported by :mod:`sprig.protocol` (and through it by everything that speaks frames) and read by
:mod:`sprig.bootstrap` on hosts where sprig is not installed (from the bundle), so this file stays
Python 3.6 syntax and defines constants only.
"""

PROTOCOL_VERSION = 4

# Every frame: a u32 body length (little-endian), a u8 frame type, then the body.
FRAME_HEADER_FORMAT = "<IB"

# Frame types (u8 after the u32 body length).
HELLO = 1
HELLO_ACK = 2
TASKS = 3
RESULTS = 4
HEARTBEAT = 5
SHUTDOWN = 6
KILL_TASK = 7
STATS = 8

FRAME_NAMES = {
    HELLO: "HELLO",
    HELLO_ACK: "HELLO_ACK",
    TASKS: "TASKS",
    RESULTS: "RESULTS",
    HEARTBEAT: "HEARTBEAT",
    SHUTDOWN: "SHUTDOWN",
    KILL_TASK: "KILL_TASK",
    STATS: "STATS",
}

# On the manager <-> worker link only (the interchange never sees them, so they are not in
# FRAME_NAMES): the manager asks a worker for the tasks it holds but has not started.
RECALL = 9

# On a local block's control socket only (--worker-socket; PROTOCOL.md, "Two-hop local blocks"):
# manager -> engine, a worker is ready and its pipes come with this frame (SCM_RIGHTS), and a
# worker ended; engine -> manager, kill a worker (it runs a killed task), a worker is silent.
WORKER_READY = 10
WORKER_ENDED = 11
KILL_WORKER = 12
WORKER_SILENT = 13

CONTROL_FRAME_NAMES = {
    WORKER_READY: "WORKER_READY",
    WORKER_ENDED: "WORKER_ENDED",
    KILL_WORKER: "KILL_WORKER",
    WORKER_SILENT: "WORKER_SILENT",
}

# Task kinds (u8 of a TASKS entry).
KIND_PYTHON = 0
KIND_BASH_FROM_PYTHON = 1
KIND_BASH = 2

KIND_NAMES = {KIND_PYTHON: "PYTHON", KIND_BASH_FROM_PYTHON: "BASH_FROM_PYTHON", KIND_BASH: "BASH"}

# Result statuses (u8 of a RESULTS entry). SKIPPED travels only from a worker to its manager;
# STARTED (a task begins on a worker; its data: the worker's pid, a u32) goes on to the
# interchange, which starts the task's walltime then; RESOURCE (a sample of the worker's resource
# use for the try it runs, RESOURCE_FORMAT below) is sent only by workers of a manager started with
# --resource-interval. Only OK, FAILED, WORKER_LOST and SKIPPED end a task.
STATUS_OK = 0
STATUS_FAILED = 1
STATUS_WORKER_LOST = 2
STATUS_SKIPPED = 3
STATUS_STARTED = 4
STATUS_RESOURCE = 6

STATUS_NAMES = {
    STATUS_OK: "OK",
    STATUS_FAILED: "FAILED",
    STATUS_WORKER_LOST: "WORKER_LOST",
    STATUS_SKIPPED: "SKIPPED",
    STATUS_STARTED: "STARTED",
    STATUS_RESOURCE: "RESOURCE",
}

# The data of a RESOURCE entry: one sample, these fields in this order (little-endian), then the
# psutil_process_status name (UTF-8) whose length the last field gives. Bytes past it are fields
# added later: readers ignore them. Meanings: PROTOCOL.md, "RESOURCE"; sprig.resources writes it.
RESOURCE_FORMAT = "<ddddQQQQQQIIIiB"
RESOURCE_FIELDS = (
    "timestamp",
    "psutil_process_time_user",
    "psutil_process_time_system",
    "psutil_process_memory_percent",
    "psutil_process_memory_resident",
    "psutil_process_memory_virtual",
    "psutil_process_disk_read",
    "psutil_process_disk_write",
    "psutil_process_num_ctx_switches_voluntary",
    "psutil_process_num_ctx_switches_involuntary",
    "psutil_process_pid",
    "psutil_process_num_threads",
    "psutil_process_children_count",
    "psutil_cpu_num",
)

# On the worker -> manager link only (not in STATUS_NAMES): a task given back unstarted after
# RECALL; the manager queues it again.
STATUS_RECALLED = 5

# The "kind" of a FAILED result's JSON, as the Python side produces them. ("walltime" is never
# produced here: the interchange enforces walltimes with KILL_TASK.)
FAILURE_KINDS = ("python", "bash_exit", "bad_std_stream", "missing_outputs", "bad_command", "serialization")
