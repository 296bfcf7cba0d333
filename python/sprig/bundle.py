"""Shipping Sprig's code to a host that does not have it: the interchange side of the zero-install
bootstrap (the loader that runs on the host is :mod:`sprig.bootstrap`).

* :data:`BOOTSTRAP_SOURCE`: stage 0, the one line run as ``PYTHON -c BOOTSTRAP_SOURCE ...``; it
  reads the bundle from stdin and runs ``sprig/bootstrap.py`` out of it.
* :func:`make_bundle`: the bytes written on the host's stdin before any frame: ``b"SPRIGBN1"``,
  a u32 length, a zip of the sprig modules the manager and its workers import.
* :func:`remote_argv` / :func:`remote_command`: the command to run on the host.

PROTOCOL.md ("Zero-install bootstrap") has the layout. ``python -m sprig.bundle source |
bundle [PACKAGE_DIR] | digest [PACKAGE_DIR]`` prints the source, writes a bundle, or its digest.
"""

import os
import sys

from sprig.bootstrap import BUNDLE_HEADER, EXIT_USAGE, MAGIC, _write_all, bundle_digest

# The modules every bundle holds; make_bundle adds whatever sprig modules they import (statically,
# transitively). bootstrap is the loader itself (it reads wire from the bundle); files gives
# workers sprig.File.
BUNDLE_ROOTS = ("sprig", "sprig.manager", "sprig.worker", "sprig.bootstrap", "sprig.wire", "sprig.files")

# Stage 0: what runs from the command line. Any Python 3 (and Python 2, to say it is too old).
# It takes sprig/bootstrap.py, the zip's first member and stored uncompressed, straight from the
# local file header (importing zipfile would cost ~12 ms on every start). Kept free of ' ! $ and
# backquotes so that it can be single-quoted for any remote shell.
_STAGE0 = """\
import os, sys
if sys.version_info < (3,):
 sys.exit("sprig bootstrap: Python %s cannot run a sprig manager" % sys.version.split()[0])
def rd(n, what):
 b = b""
 while len(b) < n:
  c = os.read(0, n - len(b))
  if not c:
   sys.exit("sprig bootstrap: truncated bundle: end of input after %d of %d bytes of the %s" % (len(b), n, what))
  b += c
 return b
h = rd(12, "bundle header")
if not h.startswith(b"SPRIGBN1"):
 sys.exit("sprig bootstrap: standard input does not start with a sprig bundle (SPRIGBN1): %r" % h[:12])
import struct
d = rd(struct.unpack("<I", h[8:])[0], "bundle")
n, e = struct.unpack("<HH", d[26:30])
if not (d[:4] + d[6:10] == b"PK\\3\\4\\0\\0\\0\\0" and d[30:30 + n] == b"sprig/bootstrap.py"):
 sys.exit("sprig bootstrap: bad bundle: its first member is not sprig/bootstrap.py, stored")
s = d[30 + n + e:30 + n + e + struct.unpack("<I", d[18:22])[0]]
g = {"__name__": "sprig_bootstrap"}
exec(compile(s, "<bundle>/sprig/bootstrap.py", "exec"), g)
sys.exit(g["boot"](d, sys.argv[1:]))
"""


def _one_line(source):
    """``exec("...")`` of ``source`` as one line of printable ASCII without single quotes."""
    escaped = source.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return 'exec("%s")' % escaped


BOOTSTRAP_SOURCE = _one_line(_STAGE0)


def bundle_modules(package_dir, extra=()):
    """Names of the sprig modules a bundle holds: BUNDLE_ROOTS, ``extra`` and every sprig module
    they import, transitively (``import sprig.x``, ``from sprig import x``, ``from . import x``,
    at any depth in the file; names built at run time, such as ``sprig.__init__``'s lazy API, are
    not followed)."""
    import ast

    def source_of(name):
        parts = name.split(".")[1:]
        base = os.path.join(package_dir, *parts)
        if os.path.isfile(os.path.join(base, "__init__.py")):
            return os.path.join(base, "__init__.py"), True
        if parts and os.path.isfile(base + ".py"):
            return base + ".py", False
        return None, False

    found = set()
    todo = list(BUNDLE_ROOTS) + list(extra)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        path, is_package = source_of(name)
        if path is None:
            raise ValueError("make_bundle: no module %s in %s" % (name, package_dir))
        found.add(name)
        if "." in name:
            todo.append(name.rsplit(".", 1)[0])  # the packages above it
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(), path)
        package = name if is_package else name.rsplit(".", 1)[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                todo.extend(alias.name for alias in node.names if alias.name.split(".")[0] == "sprig")
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    module = ".".join(anchor + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                if module.split(".")[0] != "sprig":
                    continue
                todo.append(module)
                for alias in node.names:  # `from sprig import x`: x may be a module
                    if source_of(module + "." + alias.name)[0] is not None:
                        todo.append(module + "." + alias.name)
    return sorted(found)


def shipped_files(names):
    """(arcname, path) of every ``.py`` file of the top-level packages or modules ``names`` as this
    interpreter imports them (``cloudpickle``: the serializer the engine uses, so that a host's own
    copy, of another version or none, never decides). Names that are not importable are skipped."""
    import importlib.util

    files = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError, AttributeError):  # hidden: sys.modules[name] = None
            continue
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            continue
        if spec.submodule_search_locations:
            root = os.path.dirname(spec.origin)
            for folder, dirs, names_here in os.walk(root):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for file in sorted(names_here):
                    if file.endswith(".py"):
                        path = os.path.join(folder, file)
                        files.append((name + "/" + os.path.relpath(path, root).replace(os.sep, "/"), path))
        else:
            files.append((name + ".py", spec.origin))
    return files


def manifest(members):
    """The zip comment of a bundle: :data:`sprig.bootstrap.MANIFEST_HEAD`, then one line
    ``<sha256 hex> <name>`` per member, which the host checks its cached copies against."""
    from sprig.bootstrap import MANIFEST_HEAD, sha256

    lines = [MANIFEST_HEAD] + [("%s %s\n" % (sha256(data).hexdigest(), name)).encode("utf-8") for name, data in members]
    return b"".join(lines)


def make_bundle(package_dir=None, extra=(), ship=()):
    """The bytes to write on the remote stdin before the protocol starts: ``b"SPRIGBN1"``, u32
    length, zip of the files of :func:`bundle_modules` as ``sprig/...``: ``sprig/bootstrap.py``
    first and stored (BOOTSTRAP_SOURCE takes it from there), the others deflated, in name order,
    then the files of the packages named in ``ship`` (see :func:`shipped_files`), which the
    unpacked folder puts ahead of the host's own; the zip comment is the :func:`manifest`. Deterministic: the same file contents give the
    same bytes (fixed order, timestamps and attributes)."""
    import io
    import zipfile

    if package_dir is None:
        package_dir = os.path.dirname(os.path.abspath(__file__))
    members = []
    for name in bundle_modules(package_dir, extra):
        parts = name.split(".")[1:]
        base = os.path.join(package_dir, *parts)
        if os.path.isfile(os.path.join(base, "__init__.py")):
            path, arcname = os.path.join(base, "__init__.py"), "/".join(["sprig"] + parts + ["__init__.py"])
        else:
            path, arcname = base + ".py", "/".join(["sprig"] + parts) + ".py"
        with open(path, "rb") as handle:
            members.append((arcname, handle.read()))
    for arcname, path in shipped_files(ship):
        with open(path, "rb") as handle:
            members.append((arcname, handle.read()))
    # bootstrap.py first and stored: BOOTSTRAP_SOURCE reads it without zipfile
    members.sort(key=lambda member: (member[0] != "sprig/bootstrap.py", member[0]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.comment = manifest(members)
        for arcname, data in members:
            info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3  # Unix, whatever this machine is
            info.external_attr = 0o100644 << 16
            if arcname == "sprig/bootstrap.py":
                info.compress_type = zipfile.ZIP_STORED
                archive.writestr(info, data)
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data, compresslevel=9)
    payload = buffer.getvalue()
    return BUNDLE_HEADER.pack(MAGIC, len(payload)) + payload


def remote_argv(manager_args, python="python3", expect_python=None, script_dir=None):
    """The remote command as an argument list: ``[python, "-c", BOOTSTRAP_SOURCE, ...]``.
    ``expect_python`` defaults to this interpreter's major.minor."""
    if expect_python is None:
        expect_python = "%d.%d" % sys.version_info[:2]
    argv = [python, "-c", BOOTSTRAP_SOURCE, "--expect-python", expect_python]
    if script_dir is not None:
        argv += ["--script-dir", script_dir]
    return argv + ["--"] + [str(arg) for arg in manager_args]


def remote_command(manager_args, python="python3", expect_python=None, script_dir=None):
    """The remote command as one string for ``ssh HOST COMMAND`` (the remote login shell parses
    it): ``exec`` + :func:`remote_argv`, every word single-quoted where needed."""
    import shlex

    return "exec " + " ".join(shlex.quote(word) for word in remote_argv(manager_args, python, expect_python, script_dir))


def main(argv=None):
    """``python -m sprig.bootstrap source`` prints BOOTSTRAP_SOURCE; ``bundle [PACKAGE_DIR]`` writes
    a bundle to stdout; ``digest`` prints the digest of this package's bundle."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["source"]:
        sys.stdout.write(BOOTSTRAP_SOURCE + "\n")
    elif args[:1] == ["bundle"]:
        sys.stdout.flush()
        _write_all(1, make_bundle(args[1] if len(args) > 1 else None))
    elif args[:1] == ["digest"]:
        sys.stdout.write(bundle_digest(make_bundle(args[1] if len(args) > 1 else None)) + "\n")
    else:
        sys.stderr.write("usage: python -m sprig.bootstrap source | bundle [PACKAGE_DIR] | digest [PACKAGE_DIR]\n")
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
