"""The zero-install bootstrap: ``python -c BOOTSTRAP_SOURCE ... -- MANAGER_ARGS`` with the bundle
first on stdin, in an environment where sprig is not importable (no PYTHONPATH, another cwd)."""

from __future__ import annotations

import ast
import glob
import io
import json
import os
import shlex
import shutil
import struct
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

import client
from client import HEADER, HELLO, HEARTBEAT, PY, PYTHON_DIR, TASKS, ManagerProcess
from sprig import bootstrap, protocol

BOOT = bootstrap.BOOTSTRAP_SOURCE
PACKAGE_DIR = PYTHON_DIR / "sprig"
BUNDLE = bootstrap.make_bundle(str(PACKAGE_DIR))
DIGEST = bootstrap.bundle_digest(BUNDLE)

# Evaluated by a worker (``eval`` travels by reference with any pickler): where it got sprig from.
PROBE = (
    '{"sprig": __import__("sprig").__file__,'
    ' "worker": __import__("sys").modules["__main__"].__file__,'
    ' "pythonpath": __import__("os").environ.get("PYTHONPATH", ""),'
    ' "executable": __import__("sys").executable,'
    ' "pid": __import__("os").getpid()}'
)


def clean_env() -> dict[str, str]:
    """This environment without any PYTHON* variable: sprig is not importable from it."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}


def other_pythons() -> list[str]:
    """Interpreters of another major.minor than 3.11 on this machine (pyenv's, Debian's pypy3)."""
    candidates = glob.glob("/root/.pyenv/versions/3.*/bin/python3") + ["/usr/bin/pypy3"]
    return sorted(path for path in candidates if os.access(path, os.X_OK) and "/versions/3.11." not in path)


class BootedManager(ManagerProcess):
    """A manager started the zero-install way; otherwise the test interchange of client.py.

    ManagerProcess builds ``PY -m sprig.manager MANAGER_ARGS``; its Popen call is redirected to
    ``python -c BOOTSTRAP_SOURCE BOOT_ARGS -- MANAGER_ARGS`` with a clean environment and cwd."""

    def __init__(
        self,
        script_dir: Path,
        cwd: Path,
        stderr_path: Path,
        workers: int = 1,
        python: str = PY,
        expect_python: Optional[str] = "3.11",
        send_bundle: bool = True,
    ) -> None:
        boot_args = ["--script-dir", str(script_dir)]
        if expect_python is not None:
            boot_args = ["--expect-python", expect_python, *boot_args]
        real_popen = subprocess.Popen

        def popen(command: list[str], **kwargs):  # type: ignore[no-untyped-def]
            assert command[1:3] == ["-m", "sprig.manager"], command
            kwargs["env"] = clean_env()
            kwargs["cwd"] = str(cwd)
            return real_popen([python, "-c", BOOT, *boot_args, "--", *command[3:]], **kwargs)

        client.subprocess.Popen = popen  # type: ignore[misc]
        try:
            super().__init__(workers=workers, stderr_path=stderr_path)
        finally:
            client.subprocess.Popen = real_popen  # type: ignore[misc]
        if send_bundle:
            self.send_raw(BUNDLE)


@pytest.fixture
def start_booted(tmp_path: Path) -> Iterator[Callable[..., BootedManager]]:
    """Starts bootstrapped managers; afterwards the manager and every worker it reported must be
    gone (what is left is killed by PID)."""
    started: list[BootedManager] = []
    cwd = tmp_path / "cwd"
    cwd.mkdir()

    def start(script_dir: Path, **kwargs) -> BootedManager:
        manager = BootedManager(script_dir, cwd, tmp_path / f"boot-{len(started)}.err", **kwargs)
        started.append(manager)
        return manager

    yield start
    client.finish_managers(started)


def run_boot(args: list[str], stdin: bytes, cwd: Path, python: str = PY) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python, "-c", BOOT, *args], input=stdin, capture_output=True, env=clean_env(), cwd=str(cwd), timeout=30
    )


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file and folder below ``folder`` (and itself): (mtime_ns, inode, size)."""
    found = {}
    for path in [folder, *sorted(folder.rglob("*"))]:
        info = path.stat()
        found[str(path.relative_to(folder))] = (info.st_mtime_ns, info.st_ino, info.st_size)
    return found


# -- the command line and the bundle ---------------------------------------------------------------


def test_source_is_one_short_line_any_python3_parses() -> None:
    assert len(BOOT) < 2048
    assert BOOT.isascii() and BOOT.isprintable(), "one line of printable ASCII"
    assert not set(BOOT) & set("'!$`"), "single-quotable for any remote shell"
    for version in ((3, 4), (3, 6)):
        ast.parse(BOOT, feature_version=version)
        ast.parse(bootstrap._STAGE0, feature_version=version)
        ast.parse((PACKAGE_DIR / "bootstrap.py").read_text(), feature_version=version)
        ast.parse((PACKAGE_DIR / "wire.py").read_text(), feature_version=version)
    # The protocol's numbers live in sprig/wire.py only; the loader reads them from the bundle.
    assert bootstrap.wire()["PROTOCOL_VERSION"] == protocol.PROTOCOL_VERSION
    from_bundle = bootstrap.wire(BUNDLE[12:])
    assert {key: from_bundle[key] for key in ("PROTOCOL_VERSION", "HELLO", "HELLO_ACK", "FRAME_HEADER_FORMAT")} == {
        "PROTOCOL_VERSION": protocol.PROTOCOL_VERSION, "HELLO": protocol.HELLO, "HELLO_ACK": protocol.HELLO_ACK,
        "FRAME_HEADER_FORMAT": protocol.HEADER.format}
    for module in ("bootstrap.py", "protocol.py", "manager.py", "bundle.py"):
        assert "PROTOCOL_VERSION =" not in (PACKAGE_DIR / module).read_text(), module
    command = bootstrap.remote_command(["--workers", "2", "--block-id", "b 1"], python="/usr/bin/python3")
    assert shlex.split(command) == [
        "exec", "/usr/bin/python3", "-c", BOOT, "--expect-python", "3.11", "--", "--workers", "2", "--block-id", "b 1"
    ]


def test_bundle_is_deterministic_and_holds_what_managers_and_workers_import(tmp_path: Path) -> None:
    assert BUNDLE == bootstrap.make_bundle(str(PACKAGE_DIR))
    magic, length = struct.unpack("<8sI", BUNDLE[:12])
    assert magic == b"SPRIGBN1" and length == len(BUNDLE) - 12
    archive = zipfile.ZipFile(io.BytesIO(BUNDLE[12:]))
    names = archive.namelist()
    assert names[0] == "sprig/bootstrap.py" and archive.infolist()[0].compress_type == zipfile.ZIP_STORED
    assert names[1:] == sorted(names[1:])
    assert bootstrap.zip_members(BUNDLE[12:]) == [(info.filename, info.file_size) for info in archive.infolist()]
    needed = {f"sprig/{name}.py" for name in ("__init__", "bootstrap", "files", "manager", "protocol", "serialize", "worker",
                                              "wire", "dispatch", "worker_pool", "bash")}
    assert needed <= set(names), names
    assert "sprig/api.py" not in names, "the script API (lazily imported) does not travel"
    for info in archive.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert archive.read(info) == (PACKAGE_DIR / info.filename[len("sprig/") :]).read_bytes()
    assert DIGEST == bootstrap.bundle_digest(BUNDLE[12:]) and len(DIGEST) == 16
    int(DIGEST, 16)

    # Same contents elsewhere, with other timestamps: same bytes. One changed file: another digest.
    copy = tmp_path / "copy" / "sprig"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for path in copy.rglob("*.py"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    assert bootstrap.make_bundle(str(copy)) == BUNDLE
    with open(copy / "worker.py", "a") as handle:
        handle.write("\n# changed\n")
    assert bootstrap.bundle_digest(bootstrap.make_bundle(str(copy))) != DIGEST


def test_read_bundle_reads_exactly_the_bundle() -> None:
    frame = HEADER.pack(0, HEARTBEAT)
    read_end, write_end = os.pipe()
    # one write, from a thread: the bundle may be larger than the pipe's buffer
    writer = threading.Thread(target=os.write, args=(write_end, BUNDLE + frame))
    writer.start()
    try:
        assert bootstrap.read_bundle(read_end) == BUNDLE[12:]
        writer.join(10)
        assert not writer.is_alive(), "the frame fits in the pipe once the bundle is read"
        assert os.read(read_end, 100) == frame, "the frame behind the bundle is left unread"
    finally:
        os.close(read_end)
        writer.join(10)
        os.close(write_end)


def test_install_once_repairs_damage_and_refuses_bad_names(tmp_path: Path) -> None:
    zip_bytes = BUNDLE[12:]
    root = Path(bootstrap.install(zip_bytes, str(tmp_path / "s")))
    assert root == tmp_path / "s" / f"sprig-{DIGEST}"
    before = snapshot(root)
    assert Path(bootstrap.install(zip_bytes, str(tmp_path / "s"))) == root
    assert snapshot(root) == before, "an intact folder is not written again"
    (root / "sprig" / "protocol.py").unlink()
    assert Path(bootstrap.install(zip_bytes, str(tmp_path / "s"))) == root
    assert (root / "sprig" / "protocol.py").read_bytes() == (PACKAGE_DIR / "protocol.py").read_bytes()
    assert sorted(path.name for path in (tmp_path / "s").iterdir()) == [root.name], "no temporary folders left"

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sprig/../../evil.py", b"")
    with pytest.raises(ValueError, match="bad member name"):
        bootstrap.install(buffer.getvalue(), str(tmp_path / "s"))


def test_a_same_size_edit_of_a_cached_file_is_found_and_replaced(tmp_path: Path) -> None:
    zip_bytes = BUNDLE[12:]
    root = Path(bootstrap.install(zip_bytes, str(tmp_path / "s")))
    cached = root / "sprig" / "protocol.py"
    original = cached.read_bytes()
    stat = cached.stat()
    planted = original.replace(b"PROTOCOL_VERSION", b"PROTOCOL_VERSIOM", 1)
    assert planted != original and len(planted) == len(original)
    cached.write_bytes(planted)
    os.utime(cached, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even its time is the same
    assert Path(bootstrap.install(zip_bytes, str(tmp_path / "s"))) == root
    assert cached.read_bytes() == original == (PACKAGE_DIR / "protocol.py").read_bytes()


def test_the_cache_folder_is_created_private(tmp_path: Path) -> None:
    bootstrap.install(BUNDLE[12:], str(tmp_path / "new" / "cache"))
    assert (tmp_path / "new" / "cache").stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_a_cache_folder_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    with pytest.raises(bootstrap.UnsafeFolder, match=str(shared)):
        bootstrap.install(BUNDLE[12:], str(shared))
    assert list(shared.iterdir()) == [], "nothing was written there"
    done = run_boot(["--script-dir", str(shared), "--", "--workers", "1", "--block-id", "b"], BUNDLE, tmp_path)
    assert done.returncode == 1 and done.stdout == b""
    assert f"refusing the cache folder: {shared} is writable by" in done.stderr.decode(), done.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a folder to another user")
def test_a_cache_folder_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o700)
    os.chown(foreign, 65534, 65534)
    done = run_boot(["--script-dir", str(foreign), "--", "--workers", "1", "--block-id", "b"], BUNDLE, tmp_path)
    assert done.returncode == 1 and done.stdout == b""
    assert f"{foreign} is owned by uid 65534, not by this user" in done.stderr.decode(), done.stderr
    assert list(foreign.iterdir()) == []


# -- starting managers ------------------------------------------------------------------------------


def test_manager_and_workers_run_from_the_unpacked_bundle(start_booted, tmp_path: Path) -> None:
    check = subprocess.run([PY, "-c", "import sprig"], env=clean_env(), cwd=str(tmp_path), capture_output=True, timeout=30)
    assert check.returncode != 0, "sprig must not be importable in the bootstrap's environment"

    script_dir = tmp_path / "scripts"
    manager = start_booted(script_dir, workers=2)
    hello = manager.handshake()
    assert hello["python"] == "3.11" and hello["workers"] == 2 and hello["block"] == "test-block"
    assert hello["pid"] == manager.pid and hello["executable"] == PY
    stats = manager.wait_stats(lambda stats: len(stats["worker_pids"]) == 2)

    root = script_dir / f"sprig-{DIGEST}"
    seen = manager.run(eval, PROBE).value
    assert seen["sprig"] == str(root / "sprig" / "__init__.py")
    assert seen["worker"] == str(root / "sprig" / "worker.py")
    assert seen["pythonpath"].split(os.pathsep)[0] == str(root)
    assert seen["executable"] == PY and seen["pid"] in stats["worker_pids"]

    manager.shutdown()
    assert manager.wait_exit(10) == 0
    manager.assert_all_gone()
    assert [path.name for path in script_dir.iterdir()] == [root.name]


def test_frames_written_with_the_bundle_reach_the_manager(start_booted, tmp_path: Path) -> None:
    manager = start_booted(tmp_path / "scripts", send_bundle=False)
    task_id, entry = manager.python_task(eval, "6 * 7")
    body = struct.pack("<I", 1) + entry
    # one write: bundle, a heartbeat and a task; the bootstrap must leave the frames to the manager
    manager.send_raw(BUNDLE + HEADER.pack(0, HEARTBEAT) + HEADER.pack(len(body), TASKS) + body)
    manager.handshake()
    assert manager.wait_results([task_id])[task_id].value == 42


def test_second_start_reuses_the_folder_and_writes_nothing(start_booted, tmp_path: Path) -> None:
    script_dir = tmp_path / "scripts"
    first = start_booted(script_dir)
    first.handshake()
    where = first.run(eval, PROBE).value["sprig"]
    first.shutdown()
    assert first.wait_exit(10) == 0
    before = snapshot(script_dir)

    second = start_booted(script_dir)
    second.handshake()
    assert second.run(eval, PROBE).value["sprig"] == where
    second.shutdown()
    assert second.wait_exit(10) == 0
    assert snapshot(script_dir) == before


def test_concurrent_first_starts_share_one_folder(start_booted, tmp_path: Path) -> None:
    script_dir = tmp_path / "scripts"
    managers = [start_booted(script_dir) for _ in range(3)]  # bundles written to all three first
    places = set()
    for manager in managers:
        manager.handshake()
        places.add(manager.run(eval, PROBE).value["sprig"])
    assert places == {str(script_dir / f"sprig-{DIGEST}" / "sprig" / "__init__.py")}
    for manager in managers:
        manager.shutdown()
        assert manager.wait_exit(10) == 0
    assert [path.name for path in script_dir.iterdir()] == [f"sprig-{DIGEST}"]


# -- refusals and failures ---------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["refused", "end of input"])
def test_version_mismatch_sends_a_manager_hello_and_exits_3(start_booted, tmp_path: Path, answer: str) -> None:
    script_dir = tmp_path / "scripts"
    manager = start_booted(script_dir, workers=2, expect_python="3.99")
    hello = json.loads(manager.next_frame(HELLO))
    assert hello == {
        "protocol": protocol.PROTOCOL_VERSION,
        "python": "3.11",
        "python_full": sys.version.split()[0],
        "serializer": "none",
        "serializer_version": "",
        "host": os.uname().nodename,
        "pid": manager.pid,
        "workers": 0,
        "block": "test-block",
        "executable": PY,
    }
    if answer == "refused":
        manager.send(client.HELLO_ACK, json.dumps({"ok": False, "error": "Python 3.11, expected 3.99"}).encode())
    else:
        manager.close_stdin()
    assert manager.wait_exit(10) == 3
    assert manager.frames == [] and manager.results == {}, "nothing but HELLO on stdout"
    assert "is Python 3.11, the interchange expects 3.99" in manager.stderr_text()
    assert not script_dir.exists(), "nothing unpacked"


@pytest.mark.parametrize("python", other_pythons() or [pytest.param("none", marks=pytest.mark.skip("no other Python here"))])
def test_other_python_versions_answer_hello_with_their_version(start_booted, tmp_path: Path, python: str) -> None:
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True, timeout=30
    ).stdout.strip()
    manager = start_booted(tmp_path / "scripts", python=python, expect_python="3.11")
    hello = json.loads(manager.next_frame(HELLO))
    assert hello["python"] == version and hello["protocol"] == protocol.PROTOCOL_VERSION and hello["workers"] == 0
    assert hello["executable"] and hello["block"] == "test-block"
    manager.send(client.HELLO_ACK, json.dumps({"ok": False, "error": "version"}).encode())
    assert manager.wait_exit(10) == 3


@pytest.mark.skipif(not os.access("/root/.pyenv/versions/2.7.18/bin/python", os.X_OK), reason="no Python 2 here")
def test_python2_is_told_it_cannot_run_a_manager(tmp_path: Path) -> None:
    done = run_boot(["--", "--workers", "1", "--block-id", "b"], BUNDLE, tmp_path, python="/root/.pyenv/versions/2.7.18/bin/python")
    assert done.returncode == 1 and done.stdout == b""
    assert b"Python 2.7.18 cannot run a sprig manager" in done.stderr


@pytest.mark.parametrize(
    "stdin, message",
    [
        (BUNDLE[: len(BUNDLE) // 2], f"truncated bundle: end of input after {len(BUNDLE) // 2 - 12} of {len(BUNDLE) - 12} bytes of the bundle"),
        (b"", "truncated bundle: end of input after 0 of 12 bytes of the bundle header"),
        (b"SPRIG", "truncated bundle: end of input after 5 of 12 bytes of the bundle header"),
        (HEADER.pack(0, HEARTBEAT) * 3, "does not start with a sprig bundle"),
        (BUNDLE[:12] + b"x" * (len(BUNDLE) - 12), "bad bundle"),
    ],
    ids=["half", "empty", "short-header", "frames-without-bundle", "not-a-zip"],
)
def test_a_bad_bundle_fails_clearly(tmp_path: Path, stdin: bytes, message: str) -> None:
    script_dir = tmp_path / "scripts"
    done = run_boot(["--script-dir", str(script_dir), "--", "--workers", "1", "--block-id", "b"], stdin, tmp_path)
    assert done.returncode == 1
    assert done.stdout == b""
    assert message in done.stderr.decode(), done.stderr
    assert b"Traceback" not in done.stderr
    assert not script_dir.exists()


@pytest.mark.parametrize(
    "args",
    [["--workers", "1"], ["--frobnicate", "--"], ["--expect-python", "3", "--"], ["--script-dir"]],
    ids=["no-separator", "unknown", "bad-version", "missing-value"],
)
def test_bad_bootstrap_arguments_exit_2(tmp_path: Path, args: list[str]) -> None:
    done = run_boot(args, BUNDLE, tmp_path)
    assert done.returncode == 2 and done.stdout == b""
    assert b"sprig bootstrap:" in done.stderr and b"usage:" in done.stderr


def test_a_bundle_can_ship_the_engines_cloudpickle(tmp_path: Path) -> None:
    cloudpickle = pytest.importorskip("cloudpickle")
    bundle = bootstrap.make_bundle(str(PACKAGE_DIR), ship=("cloudpickle",))
    assert bundle == bootstrap.make_bundle(str(PACKAGE_DIR), ship=("cloudpickle",)), "deterministic"
    names = [name for name, _ in bootstrap.zip_members(bundle[bootstrap.BUNDLE_HEADER.size :])]
    assert names[0] == "sprig/bootstrap.py"
    assert "cloudpickle/__init__.py" in names
    root = Path(bootstrap.install(bundle[bootstrap.BUNDLE_HEADER.size :], str(tmp_path / "s")))
    shipped = root / "cloudpickle" / "__init__.py"
    assert shipped.read_bytes() == Path(cloudpickle.__file__).read_bytes()
    assert bootstrap.shipped_files(("no_such_module_here",)) == []


def test_only_sprig_and_the_serializer_may_travel(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sitecustomize.py", b"print('planted')")
    with pytest.raises(ValueError, match="bad member name"):
        bootstrap.install(buffer.getvalue(), str(tmp_path / "s"))
