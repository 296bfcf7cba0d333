"""The manager's modules work on their own, as when shipped to a host without sprig."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import sample_apps
from client import PY, PYTHON_DIR
from sprig.serialize import Pickled

SHIPPED = ("protocol.py", "serialize.py", "manager.py", "manager_options.py", "dispatch.py", "worker_pool.py",
           "worker_slot.py", "worker_launch.py", "task_runner.py", "resources.py",
           "process_tree.py", "worker.py", "bash.py", "failures.py", "isolation.py", "affinity.py", "wire.py",
           "segments.py", "tls_link.py", "worker_handoff.py")


def sprig_imports(name: str) -> set[str]:
    """The sprig modules a file imports (at any level)."""
    tree = ast.parse((PYTHON_DIR / "sprig" / name).read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "sprig"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sprig":
            if node.module == "sprig":
                found |= {f"sprig.{alias.name}" for alias in node.names}
            else:
                found.add(node.module)
    return found


def test_shipped_modules_import_only_each_other() -> None:
    allowed = {f"sprig.{name[:-3]}" for name in SHIPPED}
    for name in SHIPPED:
        assert sprig_imports(name) <= allowed, name
    assert sprig_imports("manager.py") == {"sprig.protocol", "sprig.serialize", "sprig.dispatch", "sprig.isolation",
                                           "sprig.manager_options", "sprig.worker_pool", "sprig.tls_link",
                                           "sprig.segments"}


def test_the_bundle_holds_every_module_the_manager_needs() -> None:
    from sprig import bootstrap

    names = set(bootstrap.bundle_modules(str(PYTHON_DIR / "sprig")))
    assert {f"sprig.{name[:-3]}" for name in SHIPPED} <= names


def test_manager_runs_from_a_folder_with_only_the_shipped_files(start_manager, tmp_path: Path) -> None:
    folder = tmp_path / "remote"
    (folder / "sprig").mkdir(parents=True)
    for name in SHIPPED:
        shutil.copy(PYTHON_DIR / "sprig" / name, folder / "sprig" / name)  # no __init__.py, no files.py
    manager = start_manager(workers=2, python_dir=folder)
    assert manager.run(sample_apps.add, 2, 3).value == 5
    earlier = manager.run(sample_apps.add, 1, 1)
    assert manager.run(sample_apps.identity, [Pickled(earlier.data)]).value == (([2],), {})
    (task_id,) = manager.submit([manager.bash_task("exit 3")])
    assert manager.wait_results([task_id])[task_id].info["exit_code"] == 3
    manager.shutdown()
    assert manager.wait_exit() == 0
    manager.assert_all_gone()


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [PY, "-m", "sprig.manager", "--workers", "0", "--block-id", "b"],
        cwd=str(PYTHON_DIR),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=30,
    )
    assert proc.returncode == 2 and proc.stdout == b""
