"""Zero-install start of a manager on a host where sprig is not installed (e.g. over ssh): the
loader that runs on the host. (Building the bundle and the command is :mod:`sprig.bundle`, on the
interchange's side; its names are also served from here, lazily, for older callers.)

The interchange runs ``PYTHON -c BOOTSTRAP_SOURCE [--expect-python X.Y] [--script-dir DIR] --
MANAGER_ARGS...`` on the remote host and writes, before any protocol frame, a *bundle* on its
stdin: ``b"SPRIGBN1"``, a u32 (little-endian) length, then that many bytes of a zip archive of the
``sprig`` files the manager and its workers need (:func:`make_bundle`). ``BOOTSTRAP_SOURCE``
reads the bundle with exact ``os.read`` calls (the frames behind it stay unread), takes this
file out of the archive and runs :func:`boot`, which

* answers a Python of another major.minor than ``--expect-python`` with one HELLO frame
  (``"python"``: its own version, ``"workers": 0``) and exit status 3, without starting anything;
* unpacks the archive once per content into ``DIR/sprig-<digest>/sprig/`` (a temporary folder
  renamed into place; a later start with the same bundle writes nothing, once every cached file
  matches the sha256 the bundle's manifest gives it); DIR must be private to this user (created
  mode 0700; another user's folder, or one group or others may write, is refused);
* puts ``DIR/sprig-<digest>`` first on ``sys.path`` and ``PYTHONPATH`` (workers import sprig
  from there) and runs ``sprig.manager.main(MANAGER_ARGS)`` in this process.

The wire layout and exit statuses are in PROTOCOL.md ("Zero-install bootstrap").

This file is executed by the *remote* interpreter before anything knows whether it is the right
version, so it must stay valid Python 3.6 syntax (no annotations, no f-strings, no walrus, no
``from __future__ import annotations``) and import only the standard library, lazily where it
can: a cached start imports no more than it needs.

It is one file on purpose, longer than the others: stage 0 (``sprig.bundle.BOOTSTRAP_SOURCE``)
takes only this member out of the zip, and nothing else of sprig is importable until
:func:`install` has unpacked the bundle, so everything the loader runs before that (arguments,
the version refusal, the cache checks, the unpacking) must be here. What only the interchange
needs is in :mod:`sprig.bundle`; here are only the few names both sides use, and the lazy
forwarding of the old names (``__getattr__``).
"""

import os
import struct
import sys

MAGIC = b"SPRIGBN1"
BUNDLE_HEADER = struct.Struct("<8sI")  # magic, zip length

EXIT_BUNDLE = 1  # the bundle is missing, truncated or cannot be unpacked
EXIT_USAGE = 2  # bad bootstrap arguments
EXIT_MISMATCH = 3  # the remote Python is not --expect-python: HELLO sent, manager not started

DEFAULT_SCRIPT_DIR = "~/.sprig"
DIGEST_LENGTH = 16  # hex digits of sha256 in the folder name

# The top-level names a bundle may hold: Sprig's package and the serializer the engine ships.
SHIPPABLE_ROOTS = ("sprig", "cloudpickle")

# Names of sprig.bundle that older callers (and the Swift side) take from this module.
_BUNDLE_NAMES = ("BOOTSTRAP_SOURCE", "_STAGE0", "BUNDLE_ROOTS", "bundle_modules", "shipped_files", "make_bundle",
                 "remote_argv", "remote_command")


def __getattr__(name):
    """``sprig.bootstrap.make_bundle`` and the other names of :mod:`sprig.bundle` (Python 3.7+)."""
    if name in _BUNDLE_NAMES:
        import sprig.bundle

        return getattr(sprig.bundle, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def wire(bundle=None):
    """The protocol's numbers (``sprig/wire.py``) as a dict: read from ``bundle`` (a zip, on a
    host without sprig: the host's own sprig, if any, may be another version), else imported."""
    if bundle is None:
        from sprig import wire as module

        return vars(module)
    import io
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(bundle)).read("sprig/wire.py")
    namespace = {"__name__": "sprig_wire"}
    exec(compile(source, "<bundle>/sprig/wire.py", "exec"), namespace)
    return namespace

USAGE = (
    "usage: python -c BOOTSTRAP_SOURCE [--expect-python X.Y] [--script-dir DIR] -- MANAGER_ARGS...\n"
    "(the bundle comes first on standard input)\n"
)


def sha256(data=b""):
    """A sha256 hash object; the built-in module's (importing hashlib, OpenSSL, costs ~3 ms at
    each start)."""
    try:
        from _sha2 import sha256 as make  # 3.12+
    except ImportError:
        try:
            from _sha256 import sha256 as make  # up to 3.11
        except ImportError:
            from hashlib import sha256 as make
    return make(data)


def bundle_digest(bundle):
    """The bundle's name: the first 16 hex digits of the sha256 of its zip (``bundle`` may be what
    :func:`make_bundle` returns, with its 12-byte header, or the zip alone). The remote side
    unpacks into ``<script dir>/sprig-<digest>``."""
    bundle = bytes(bundle)
    if bundle[:8] == MAGIC:
        bundle = bundle[BUNDLE_HEADER.size :]
    return sha256(bundle).hexdigest()[:DIGEST_LENGTH]


# -- the remote side (runs on any Python 3.6+) ----------------------------------------------------


class UsageError(Exception):
    pass


class Options(object):
    def __init__(self):
        self.expect_python = None
        self.script_dir = DEFAULT_SCRIPT_DIR
        self.manager_args = []


def parse_args(argv):
    """``[--expect-python X.Y] [--script-dir DIR] -- MANAGER_ARGS...`` (``--opt=value`` works too)."""
    options = Options()
    args = list(argv)
    while True:
        if not args:
            raise UsageError("missing -- before the manager arguments")
        arg = args.pop(0)
        if arg == "--":
            options.manager_args = args
            break
        name, has_value, value = arg.partition("=")
        if name not in ("--expect-python", "--script-dir"):
            raise UsageError("unknown argument %r" % arg)
        if not has_value:
            if not args:
                raise UsageError("%s needs a value" % name)
            value = args.pop(0)
        if name == "--expect-python":
            major, dot, minor = value.partition(".")
            if not (major.isdigit() and dot and minor.isdigit()):
                raise UsageError("--expect-python wants MAJOR.MINOR, not %r" % value)
            options.expect_python = "%d.%d" % (int(major), int(minor))
        else:
            if not value:
                raise UsageError("--script-dir is empty")
            options.script_dir = value
    return options


def _manager_option(args, name, default):
    """The value of ``--name V`` or ``--name=V`` among the manager's arguments."""
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg[len(name) + 1 :]
    return default


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def refuse_version(options, fd_in=0, fd_out=1, bundle=None, connection=None):
    """The version-mismatch answer: one HELLO frame, as the manager would send it but with this
    interpreter's version and no workers, then wait for HELLO_ACK or end of input (at most the
    heartbeat threshold); returns EXIT_MISMATCH. The protocol's numbers come from ``bundle``
    (see :func:`wire`). The link is ``fd_in``/``fd_out``, or ``connection`` (a connect-back
    block's TLS socket) when given."""
    import json
    import time

    numbers = wire(bundle)
    HELLO, HELLO_ACK = numbers["HELLO"], numbers["HELLO_ACK"]
    FRAME_HEADER = struct.Struct(numbers["FRAME_HEADER_FORMAT"])

    here = "%d.%d" % sys.version_info[:2]
    block = _manager_option(options.manager_args, "--block-id", "")
    hello = {
        "protocol": numbers["PROTOCOL_VERSION"],
        "python": here,
        "python_full": sys.version.split()[0],
        "serializer": "none",
        "serializer_version": "",
        "host": os.uname()[1],
        "pid": os.getpid(),
        "workers": 0,
        "block": block,
        "executable": sys.executable,
    }
    sys.stderr.write(
        "sprig bootstrap: %s is Python %s, the interchange expects %s: not starting the manager\n"
        % (sys.executable, here, options.expect_python)
    )
    sys.stderr.flush()
    body = json.dumps(hello).encode("utf-8")
    send, receive = _link_io(fd_in, fd_out, connection)
    try:
        send(FRAME_HEADER.pack(len(body), HELLO) + body)
    except OSError:
        return EXIT_MISMATCH
    try:
        threshold = float(_manager_option(options.manager_args, "--heartbeat-threshold", "10"))
    except ValueError:
        threshold = 10.0
    deadline = time.time() + max(threshold, 1.0)
    buffered = b""
    while True:
        left = deadline - time.time()
        if left <= 0:
            break
        try:
            chunk = receive(left)
        except (OSError, ValueError):
            break
        if chunk is None:
            continue  # nothing yet: the deadline is checked again
        if not chunk:
            break  # end of input
        buffered += chunk
        while len(buffered) >= FRAME_HEADER.size:
            length, kind = FRAME_HEADER.unpack(buffered[: FRAME_HEADER.size])
            if len(buffered) < FRAME_HEADER.size + length:
                break
            buffered = buffered[FRAME_HEADER.size + length :]
            if kind == HELLO_ACK:
                return EXIT_MISMATCH
    return EXIT_MISMATCH


def _link_io(fd_in, fd_out, connection):
    """(send all of some bytes, receive within some seconds: bytes, b"" at the end, None when
    nothing came) over the two descriptors, or over ``connection`` (a blocking TLS socket)."""
    import select

    if connection is not None:
        import socket

        def receive(seconds):
            connection.settimeout(seconds)
            try:
                return connection.recv(65536)
            except socket.timeout:
                return None

        connection.setblocking(True)
        return connection.sendall, receive

    def send(data):
        _write_all(fd_out, data)

    def receive(seconds):
        if not select.select([fd_in], [], [], seconds)[0]:
            return None
        return os.read(fd_in, 65536)

    return send, receive


def zip_members(data):
    """(name, size) of each file in a zip archive, from its central directory (zipfile is only
    imported when something must be unpacked). ValueError if ``data`` is not a zip archive."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65535))
    if end < 0 or len(data) < end + 22:
        raise ValueError("not a zip archive")
    count, _, position = struct.unpack("<HII", data[end + 10 : end + 20])
    members = []
    for _ in range(count):
        if data[position : position + 4] != b"PK\x01\x02":
            raise ValueError("bad zip central directory")
        size, name_length, extra_length, comment_length = struct.unpack("<IHHH", data[position + 24 : position + 34])
        name = data[position + 46 : position + 46 + name_length].decode("utf-8", "replace")
        if not name.endswith("/"):
            members.append((name, size))
        position += 46 + name_length + extra_length + comment_length
    return members


MANIFEST_HEAD = b"sprig-manifest sha256\n"


class UnsafeFolder(Exception):
    """The cache folder is not private to this user: code in it cannot be trusted."""


def digests(data):
    """{member name: sha256 hex} of a zip archive: from its manifest (the zip comment
    :func:`sprig.bundle.manifest` writes), else computed from the members."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65535))
    if end >= 0 and len(data) >= end + 22:
        (length,) = struct.unpack("<H", data[end + 20 : end + 22])
        comment = data[end + 22 : end + 22 + length]
        if comment.startswith(MANIFEST_HEAD):
            found = {}
            for line in comment[len(MANIFEST_HEAD) :].decode("utf-8").splitlines():
                digest, _, name = line.partition(" ")
                found[name] = digest
            return found
    import io
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(data))
    return dict((info.filename, sha256(archive.read(info)).hexdigest()) for info in archive.infolist()
                if not info.filename.endswith("/"))


def _unpacked(root, expected):
    """Whether ``root`` holds every member with its content (``expected``: name -> sha256 hex)."""
    for name, digest in expected.items():
        try:
            with open(os.path.join(root, *name.split("/")), "rb") as handle:
                if sha256(handle.read()).hexdigest() != digest:
                    return False
        except OSError:
            return False
    return True


def private_folder(folder):
    """Makes sure ``folder`` exists (created mode 0700), is a folder, is owned by this user and is
    not writable by group or others; UnsafeFolder otherwise: another user could plant code in it."""
    if not os.path.isdir(folder):
        try:
            os.makedirs(folder, 0o700)
        except FileExistsError:
            pass
        else:
            os.chmod(folder, 0o700)
    info = os.stat(folder)
    import stat

    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeFolder("%s is not a folder" % folder)
    if info.st_uid != os.geteuid():
        raise UnsafeFolder(
            "%s is owned by uid %d, not by this user (uid %d): another user could plant code in it; "
            "use a --script-dir of your own" % (folder, info.st_uid, os.geteuid())
        )
    if info.st_mode & 0o022:
        raise UnsafeFolder(
            "%s is writable by %s (mode %04o): another user could plant code in it; make it private "
            "(chmod 700) or use another --script-dir"
            % (folder, "group and others" if info.st_mode & 0o022 == 0o022 else "group" if info.st_mode & 0o020 else "others",
               stat.S_IMODE(info.st_mode))
        )


def install(bundle, script_dir=DEFAULT_SCRIPT_DIR):
    """Unpacks the zip ``bundle`` into ``script_dir/sprig-<digest>`` unless it is there already,
    and returns that folder. ``script_dir`` must be private (:func:`private_folder`; created
    mode 0700). Written atomically: a temporary folder in ``script_dir`` renamed into place, so a
    folder of that name is complete; concurrent starts each unpack, one rename wins and the others
    use its folder. A damaged folder (a member missing or whose content differs from the bundle's,
    by sha256) is replaced."""
    script_dir = os.path.abspath(os.path.expanduser(script_dir))
    root = os.path.join(script_dir, "sprig-" + bundle_digest(bundle))
    sizes = zip_members(bundle)
    for name, _ in sizes:
        parts = name.split("/")
        # sprig/... and the shipped serializer (cloudpickle/...) only: nothing else may be planted.
        if parts[0] not in SHIPPABLE_ROOTS or ".." in parts or "" in parts or "\\" in name:
            raise ValueError("bad member name in bundle: %r" % name)
    expected = digests(bundle)
    if sorted(expected) != sorted(name for name, _ in sizes):
        raise ValueError("the bundle's manifest does not list its members")
    private_folder(script_dir)
    if _unpacked(root, expected):
        return root

    import io
    import shutil
    import tempfile
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(bundle))

    temp = tempfile.mkdtemp(prefix=".sprig-%s-" % os.path.basename(root)[6:], dir=script_dir)
    try:
        for name, _ in sizes:
            target = os.path.join(temp, *name.split("/"))
            folder = os.path.dirname(target)
            if not os.path.isdir(folder):
                os.makedirs(folder)
            with open(target, "wb") as handle:
                handle.write(archive.read(name))
        os.chmod(temp, 0o755)
        try:
            os.rename(temp, root)
        except OSError:
            if not _unpacked(root, expected):
                if not os.path.isdir(root):
                    raise
                aside = "%s.damaged-%d" % (root, os.getpid())
                os.rename(root, aside)
                os.rename(temp, root)
                shutil.rmtree(aside, ignore_errors=True)
    finally:
        if os.path.isdir(temp):
            shutil.rmtree(temp, ignore_errors=True)
    return root


def run_manager(root, manager_args, connection=None):
    """Imports sprig from ``root`` (and nothing else) and runs the manager in this process (over
    ``connection``, a TLS socket, when given)."""
    import importlib

    for name in list(sys.modules):
        if name == "sprig" or name.startswith("sprig."):
            del sys.modules[name]
    sys.path.insert(0, root)
    paths = [path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path and path != root]
    os.environ["PYTHONPATH"] = os.pathsep.join([root] + paths)  # workers import sprig from root
    importlib.invalidate_caches()
    manager = importlib.import_module("sprig.manager")
    where = os.path.dirname(os.path.dirname(os.path.abspath(manager.__file__)))
    if where != root:
        sys.stderr.write("sprig bootstrap: sprig.manager was imported from %s, not %s\n" % (where, root))
        return EXIT_BUNDLE
    sys.argv = ["sprig.manager"] + list(manager_args)
    if connection is not None:
        return manager.main(list(manager_args), connection=connection)
    return manager.main(list(manager_args))


def boot(bundle, argv, connection=None):
    """The loader (run by BOOTSTRAP_SOURCE with the zip read from stdin and ``sys.argv[1:]``):
    check the version, unpack (once), run the manager; returns the exit status. With
    ``connection`` (run by :mod:`sprig.connector`, the bundle read from it), the manager's link
    is that TLS connection instead of stdin and stdout."""
    try:
        options = parse_args(argv)
    except UsageError as error:
        sys.stderr.write("sprig bootstrap: %s\n%s" % (error, USAGE))
        return EXIT_USAGE
    here = "%d.%d" % sys.version_info[:2]
    if options.expect_python is not None and options.expect_python != here:
        return refuse_version(options, bundle=bundle, connection=connection)
    try:
        root = install(bundle, options.script_dir)
    except UnsafeFolder as error:
        sys.stderr.write("sprig bootstrap: refusing the cache folder: %s\n" % error)
        return EXIT_BUNDLE
    except Exception as error:  # OSError, BadZipFile, ValueError: say what and where, no traceback
        sys.stderr.write(
            "sprig bootstrap: cannot unpack the bundle into %s: %s: %s\n"
            % (options.script_dir, type(error).__name__, error)
        )
        return EXIT_BUNDLE
    return run_manager(root, options.manager_args, connection)


def read_bundle(fd=0):
    """What BOOTSTRAP_SOURCE does before :func:`boot`: the zip of the bundle at the head of ``fd``,
    read with exact ``os.read`` calls (nothing behind it is consumed). ValueError when the input
    is not a bundle or ends early."""

    def read_exact(count, what):
        data = b""
        while len(data) < count:
            chunk = os.read(fd, count - len(data))
            if not chunk:
                raise ValueError(
                    "truncated bundle: end of input after %d of %d bytes of the %s" % (len(data), count, what)
                )
            data += chunk
        return data

    magic, length = BUNDLE_HEADER.unpack(read_exact(BUNDLE_HEADER.size, "bundle header"))
    if magic != MAGIC:
        raise ValueError("standard input does not start with a sprig bundle (SPRIGBN1): %r" % magic)
    return read_exact(length, "bundle")


if __name__ == "__main__":
    from sprig.bundle import main

    sys.exit(main())
