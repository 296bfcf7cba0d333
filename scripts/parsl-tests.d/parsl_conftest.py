"""The test harness that Parsl's `parsl/tests/conftest.py` provides, for Sprig (loaded with `-p
parsl_conftest`; Parsl's own conftest is removed from the extracted tests: it imports
`parsl.utils` and `parsl.dataflow.dflow` internals).

Only the harness is emulated, never what the tests check:

* `--config PATH|local`: PATH is a config module (`config` or `fresh_config()`), loaded once
  for the whole session; `local` loads nothing for the session and instead, per test module,
  loads the module's `local_config()` and calls its `local_setup()`/`local_teardown()`.
* Which tests run: `@pytest.mark.local` tests only with `--config local`, the others only
  without (filtered tests are dropped, or reported as skipped with `--show-filtered-tests`);
  `cleannet` tests (they need a clean network; Parsl's CI deselects them with `-k`) are skipped,
  and so are `unix_filesystem_permissions_required` tests when running as root.
* Parsl's markers, the `tmpd_cwd_session`/`tmpd_cwd`/`setup_data`/`try_assert`/`randomstring`
  fixtures, the check after each test (in config mode) that no task was left unfinished, and
  collection errors from `KeyError` (a site config missing from `user_opts.py`) reported as skips.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import random
import re
import string
import tempfile
import time
from datetime import datetime

import pytest

import parsl

MARKERS = {
    "whitelist": "whitelist(config1, ..., reason=None): run only on the named configs",
    "blacklist": "blacklist(config1, ..., reason=None): skip the named configs",
    "local": "local(reason=None): run only with --config local",
    "cleannet": "needs a clean network connection (FTP, HTTP)",
    "staging_required": "needs a staging provider (no shared file system)",
    "sshd_required": "needs an sshd",
    "multiple_cores_required": "needs more than one core (htex affinity)",
    "unix_filesystem_permissions_required": "needs Unix file-permission enforcement",
    "issue3328": "broken by Parsl issue 3328",
    "issue_3620": "does not work on GlobusComputeExecutor (Parsl issue 3620)",
    "executor_supports_std_stream_tuples": "needs (path, mode) tuples for stdout/stderr",
    "shared_fs": "needs a file system shared by workers and the submitting process",
    "workqueue": "needs a Work Queue installation",
    "taskvine": "needs a TaskVine installation",
    "globus_compute": "needs the Globus Compute SDK",
    "radical": "needs the RADICAL framework",
}
SKIPPED_MARKERS = {"cleannet": "needs a clean network (Parsl's CI deselects cleannet tests)"}
if os.geteuid() == 0:  # root writes anywhere: what these tests expect to be refused is allowed
    SKIPPED_MARKERS["unix_filesystem_permissions_required"] = "needs file permissions enforced; running as root"
IGNORED_FOLDERS = ("integration", "manual_tests", os.path.join("scaling_tests", "test_scale"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--config", action="store", metavar="CONFIG", type=str, nargs=1, required=True,
                     help="a Parsl config module to load for the session, or 'local' for each module's own")
    parser.addoption("--show-filtered-tests", action="store_true", default=False,
                     help="report tests filtered out by the config mode as skipped instead of dropping them")


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


def _config_option(pytestconfig: pytest.Config) -> str:
    return pytestconfig.getoption("config")[0]


def pytest_ignore_collect(collection_path: pathlib.Path, config: pytest.Config) -> bool | None:
    text = str(collection_path)
    return True if any(folder in text for folder in IGNORED_FOLDERS) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    outcome = yield
    report = outcome.get_result()
    call = getattr(report, "call", None)
    if report.failed and call is not None and call.excinfo is not None and call.excinfo.errisinstance(KeyError):
        key = str(call.excinfo.value).strip("'\"")
        report.outcome = "skipped"
        report.longrepr = (str(collector.path), 0, f"{key} not configured in user_opts.py")


@pytest.hookimpl(hookwrapper=True)
def pytest_collection_modifyitems(items: list[pytest.Item], config: pytest.Config):
    yield
    local_mode = _config_option(config) == "local"
    show = config.getoption("--show-filtered-tests")
    kept = []
    for item in items:
        marker = item.get_closest_marker("local")
        reason = None
        if marker is not None and not local_mode:
            reason = str(marker.args[0]) if marker.args else "intended for local config"
        elif marker is None and local_mode:
            reason = "intended for explicit config"
        if reason is None or show:
            kept.append(item)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))
        for name, why in SKIPPED_MARKERS.items():
            if item.get_closest_marker(name) is not None:
                item.add_marker(pytest.mark.skip(reason=why))
    items[:] = kept


# MARK: folders


@pytest.fixture(scope="session")
def tmpd_cwd_session(pytestconfig: pytest.Config) -> pathlib.Path:
    """A fresh folder for this session under ./pytest-parsl, reached through the link
    `parsltest-current`."""
    label = re.sub(r"[^A-Za-z0-9_-]+", "_", _config_option(pytestconfig))
    root = pathlib.Path.cwd() / "pytest-parsl"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d.%H%M%S")
    folder = pathlib.Path(tempfile.mkdtemp(dir=root, prefix=f"parsltest-{stamp}-{label}-"))
    link = root / "parsltest-current"
    link.unlink(missing_ok=True)
    link.symlink_to(folder.name)
    return link


@pytest.fixture
def tmpd_cwd(tmpd_cwd_session: pathlib.Path, request: pytest.FixtureRequest) -> pathlib.Path:
    """A fresh folder per test inside the session's folder."""
    name = re.sub(r"[^\w\s-]", "_", request.node.name)
    return pathlib.Path(tempfile.mkdtemp(dir=tmpd_cwd_session, prefix=f"{name}-"))


@pytest.fixture
def setup_data(tmpd_cwd: pathlib.Path) -> pathlib.Path:
    data = tmpd_cwd / "data"
    data.mkdir()
    (data / "test1.txt").write_text("1\n")
    (data / "test2.txt").write_text("2\n")
    return data


# MARK: loading configs


def _no_kernel_loaded() -> bool:
    try:
        parsl.dfk()
    except Exception:
        return True
    return False


def _load(config: object, tmpd_cwd_session: pathlib.Path) -> object:
    if not isinstance(config, parsl.Config):
        raise RuntimeError(f"the config is a {type(config).__name__}, not a parsl.Config")
    if getattr(config, "run_dir", None) == "runinfo":  # Parsl's default: keep logs in the session folder
        config.run_dir = str(tmpd_cwd_session / "runinfo")
    kernel = parsl.load(config)
    for executor in getattr(kernel, "executors", {}).values():
        try:
            executor.working_dir = str(tmpd_cwd_session)
        except AttributeError:
            pass
    return kernel


def _unload(kernel: object) -> None:
    if parsl.dfk() is not kernel:
        raise RuntimeError("the loaded DFK changed unexpectedly during the tests")
    kernel.cleanup()
    if not _no_kernel_loaded():
        raise RuntimeError("a DFK is still loaded after cleanup()")


@pytest.fixture(autouse=True, scope="session")
def load_dfk_session(pytestconfig: pytest.Config, tmpd_cwd_session: pathlib.Path):
    """With --config PATH: loads that config module's config around the whole session."""
    option = _config_option(pytestconfig)
    if option == "local":
        yield
        return
    spec = importlib.util.spec_from_file_location("", option)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not _no_kernel_loaded():
        raise RuntimeError("a DFK was loaded before the session started")
    if hasattr(module, "config"):
        config = module.config
    elif hasattr(module, "fresh_config"):
        config = module.fresh_config()
    else:
        raise RuntimeError(f"{option} defines neither config nor fresh_config")
    kernel = _load(config, tmpd_cwd_session)
    yield
    _unload(kernel)


@pytest.fixture(autouse=True, scope="module")
def load_dfk_local_module(request: pytest.FixtureRequest, pytestconfig: pytest.Config, tmpd_cwd_session: pathlib.Path):
    """With --config local: the module's `local_config()` is loaded around its tests, and its
    `local_setup()`/`local_teardown()` called before and after them."""
    if _config_option(pytestconfig) != "local":
        yield
        return
    local_setup = getattr(request.module, "local_setup", None)
    local_teardown = getattr(request.module, "local_teardown", None)
    local_config = getattr(request.module, "local_config", None)
    kernel = None
    if local_config is not None:
        assert callable(local_config), "local_config must be a callable returning a parsl.Config"
        kernel = _load(local_config(), tmpd_cwd_session)
    if callable(local_setup):
        local_setup()
    yield
    if callable(local_teardown):
        local_teardown()
        assert _no_kernel_loaded(), "expected local_teardown() to clear the DFK"
    if kernel is not None:
        _unload(kernel)


def _unfinished_tasks(kernel: object) -> list[str]:
    tasks = getattr(kernel, "tasks", None)
    if tasks is not None:
        futures = {tid: record.get("app_fu") if isinstance(record, dict) else None for tid, record in tasks.items()}
        return [str(tid) for tid, future in futures.items() if future is not None and not future.done()]
    counts = kernel.task_counts()  # a kernel without Parsl's task records: count what has not ended
    unfinished = sum(n for state, n in counts.items() if state not in ("done", "failed"))
    return [f"{unfinished} task(s)"] if unfinished else []


@pytest.fixture(autouse=True)
def assert_no_outstanding_tasks(pytestconfig: pytest.Config):
    """In config mode, after each test: every task it submitted is done (a test that leaves
    tasks behind fails here rather than hanging a later one)."""
    yield
    if _config_option(pytestconfig) != "local":
        unfinished = _unfinished_tasks(parsl.dfk())
        assert not unfinished, f"incomplete tasks after the test: {', '.join(unfinished)}"


# MARK: helpers the tests take as fixtures


@pytest.fixture
def try_assert():
    """`try_assert(predicate, fail_msg="", timeout_ms=5000, attempts=0, check_period_ms=20,
    factor=2)`: polls `predicate` with jittered, growing pauses until it is true, for `attempts`
    tries if given, else until `timeout_ms`; raises AssertionError with `fail_msg` otherwise."""

    def check(predicate, fail_msg: str = "", timeout_ms: float = 5000, attempts: int = 0,
              check_period_ms: int = 20, factor: float = 2) -> None:
        period = abs(check_period_ms) / 1000.0
        if attempts > 0:
            for _ in range(attempts):
                share = random.random()
                time.sleep(share * period)
                period *= factor ** share
                if predicate():
                    return
            raise AssertionError(f"{fail_msg} (still failing after {attempts} attempts)".strip())
        if timeout_ms <= 0:
            raise AssertionError("try_assert needs attempts or a timeout")
        deadline = time.monotonic() + abs(timeout_ms) / 1000.0
        while time.monotonic() < deadline:
            share = random.random()
            time.sleep(max(0.0, min(share * period, deadline - time.monotonic())))
            period *= factor ** share
            if predicate():
                return
        raise AssertionError(f"{fail_msg} (still failing after {timeout_ms} ms)".strip())

    return check


@pytest.fixture
def randomstring():
    def make(length: int = 5, alphabet: str = string.ascii_letters) -> str:
        return "".join(random.choice(alphabet) for _ in range(length))

    return make
