"""Python apps the engine tests run."""

import os
import sys
import threading
import time


def noop():
    return None


def add(a, b=0):
    return a + b


def total(values):
    return sum(values)


def describe(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


def identity(value):
    return value


def same_object(a, b):
    return a is b


def make_object():
    return {"made": True}


def fail(message):
    raise ValueError(message)


def record_and_fail(path, message):
    """Appends a line to `path` (so a test can count runs), then raises."""
    with open(path, "a") as f:
        f.write("ran\n")
    raise RuntimeError(message)


def fail_until(path, failures):
    """Fails the first `failures` times it runs (counted in `path`), then returns the run count."""
    with open(path, "a") as f:
        f.write("ran\n")
    with open(path) as f:
        runs = len(f.readlines())
    if runs <= failures:
        raise RuntimeError(f"run {runs} fails on purpose")
    return runs


def touch(path):
    with open(path, "a"):
        pass
    return path


def with_inputs(inputs=()):
    return [x for x in inputs]


def with_outputs(text, outputs=()):
    with open(outputs[0], "w") as f:
        f.write(text)
    return outputs[0].filepath


def file_info(f):
    return [type(f).__name__, f.filepath, os.fspath(f)]


def spin_forever():
    while True:
        pass


def thread_name():
    return threading.current_thread().name


barrier = None


def meet(parties, timeout):
    """Waits until `parties` calls are inside at once; raises BrokenBarrierError if they never are."""
    global barrier
    if barrier is None or barrier.parties != parties:
        barrier = threading.Barrier(parties)
    barrier.wait(timeout)
    return True


def sleep_then(seconds, value):
    time.sleep(seconds)
    return value


def echo_command(word, stdout=None, stderr=None):
    return f"echo {word}"


def exit_command(code):
    return f"exit {code}"


def not_a_command():
    return 42


def bad_command_raises():
    raise KeyError("no command")


def write_command(outputs=()):
    return f"echo written > {outputs[0].filepath}"


def claim_outputs_command(outputs=()):
    return "true"


def pid_then_sleep(path, seconds):
    """First run: writes this worker's pid to `path` and sleeps; a later run returns at once."""
    if os.path.exists(path):
        return "second run"
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(path + ".tmp", path)
    time.sleep(seconds)
    return "first run"


def rendezvous(folder, name, parties, timeout):
    """Waits until `parties` calls (in any processes) have arrived; True if they all did in time."""
    open(os.path.join(folder, name), "w").close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(os.listdir(folder)) >= parties:
            return True
        time.sleep(0.01)
    return False


def chatty(value):
    print("hello from an app", value)
    print("to stderr too", file=__import__("sys").stderr)
    return value * 2


def make_scaler(factor):
    def scale(x):
        return x * factor
    return scale


def numbers(n):
    return list(range(n))


def generator_of(n):
    return (i for i in range(n))


def worker_pid():
    return os.getpid()


def host_after(seconds):
    """Sleeps, then says which host (network namespace) ran it."""
    import socket
    time.sleep(seconds)
    return socket.gethostname()


def text_of_size(n):
    return "x" * n


def environment_value(name):
    return os.environ.get(name)


def accelerator_after_meeting(folder, name, parties, timeout):
    """Waits for `parties` calls (so that each runs on its own worker), then returns the
    accelerator this worker was given."""
    met = rendezvous(folder, name, parties, timeout)
    return [str(met), os.environ.get("CUDA_VISIBLE_DEVICES", ""), os.environ.get("ROCR_VISIBLE_DEVICES", "")]


_markers_loaded = []


def _load_marker(name):
    _markers_loaded.append(os.getpid())
    return Marker(name)


class Marker:
    """A hashable value that notes, in the process that unpickles it, that it was unpickled there."""

    def __init__(self, name):
        self.name = name

    def __reduce__(self):
        return (_load_marker, (self.name,))

    def __eq__(self, other):
        return isinstance(other, Marker) and other.name == self.name

    def __hash__(self):
        return hash(self.name)


def make_marker(name):
    return Marker(name)


def marker_names(markers):
    """The names of the markers in a set, or among a dict's keys (with their values)."""
    if isinstance(markers, dict):
        return sorted(f"{key.name}={value}" for key, value in markers.items())
    return sorted(marker.name for marker in markers)


def markers_loaded_here():
    return _markers_loaded.count(os.getpid())


def burn(seconds):
    """Uses ``seconds`` of CPU time; returns the pid of the worker that ran it."""
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return os.getpid()


def busy_command(seconds):
    """A bash command whose child uses ``seconds`` of CPU time, then sleeps as long."""
    burner = f"import time\nstart = time.process_time()\nwhile time.process_time() - start < {seconds}: pass\n"
    return f"{sys.executable} -c '{burner}'; sleep {seconds}"


def slow_the_first_time(path, seconds):
    """Sleeps `seconds` unless `path` exists (it makes it first), then says which host ran it."""
    import socket
    if not os.path.exists(path):
        open(path, "w").close()
        time.sleep(seconds)
    return socket.gethostname()


def make_payload(size):
    """`size` bytes (a multiple of 256), the same for the same size."""
    return bytes(range(256)) * (size // 256)


def payload_kinds(*values):
    """The type names of the values, and their sizes."""
    return [(type(v).__name__, len(v) if hasattr(v, "__len__") else 0) for v in values]


def pid_then_hold(path, data, seconds):
    """Writes this worker's pid to `path` (its arguments are read by then), sleeps, returns `data`."""
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(path + ".tmp", path)
    time.sleep(seconds)
    return data
