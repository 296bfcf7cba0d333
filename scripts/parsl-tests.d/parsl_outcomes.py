"""A pytest plugin that records what happened to each test, one JSON object a line, flushed as it
happens (so a run killed at its time bound still tells which tests finished):

    {"collected": ["parsl/tests/test_x.py::test_a", ...]}
    {"test": ID, "phase": "setup"|"call"|"teardown", "outcome": "passed"|"failed"|"skipped",
     "message": first line, "xfail": bool, "seconds": float}
    {"collect_error": ID, "message": first line}      (a module that could not be imported)
    {"collect_skip": ID, "message": reason}           (a module skipped as a whole)
    {"running": ID}                                   (the test about to run)

Loaded with `-p parsl_outcomes --outcomes-file PATH`.
"""

from __future__ import annotations

import json
import re
from typing import Any, TextIO

import pytest

_stream: TextIO | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--outcomes-file", action="store", default=None, help="where to write per-test outcomes (JSON lines)")


def pytest_configure(config: pytest.Config) -> None:
    global _stream
    path = config.getoption("--outcomes-file")
    if path:
        _stream = open(path, "a", encoding="utf-8")


def pytest_unconfigure(config: pytest.Config) -> None:
    global _stream
    if _stream is not None:
        _stream.close()
        _stream = None


def _write(record: dict[str, Any]) -> None:
    if _stream is not None:
        _stream.write(json.dumps(record) + "\n")
        _stream.flush()


def first_line(report: pytest.BaseReport) -> str:
    """The line that says what went wrong: the exception's own message for a failure (the `E`
    line of the traceback), the reason for a skip."""
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple):  # a skip: (path, line, reason)
        return re.sub(r"^Skipped: ", "", str(longrepr[2])).strip().splitlines()[0] if longrepr[2] else ""
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and crash.message:
        lines = crash.message.strip().splitlines()
        # a bare `assert x` says little: add pytest's first "where x = …" explanation
        where = [line.strip().lstrip("+ ").strip() for line in lines[1:] if line.strip().startswith("+")]
        if re.fullmatch(r"(AssertionError: )?assert \S+", lines[0]) and where:
            return f"{lines[0]} ({where[0]})"
        return lines[0]
    errors = [line[1:].strip() for line in str(longrepr).splitlines() if line.startswith("E ")]
    if errors:
        last = errors[-1]
        # a multi-line exception message has its first line on the first `E` line of the group
        for line in errors:
            if re.match(r"^[\w.]+(Error|Exception|Exit|Failure|Timeout)\b", line):
                last = line
        return last
    lines = [line.strip() for line in str(longrepr).splitlines() if line.strip()]
    return lines[-1] if lines else ""


def pytest_collection_finish(session: pytest.Session) -> None:
    _write({"collected": [item.nodeid for item in session.items]})


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _write({"collect_error": report.nodeid, "message": first_line(report)})
    elif report.skipped:
        _write({"collect_skip": report.nodeid, "message": first_line(report)})


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    _write({"running": nodeid})


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _write({"test": report.nodeid, "phase": report.when, "outcome": report.outcome,
            "message": "" if report.passed and not hasattr(report, "wasxfail") else first_line(report),
            "xfail": hasattr(report, "wasxfail"), "seconds": round(report.duration, 3)})
