"""Parsl's structured task records (sprig.task_log): their attributes, and that none is made
while no handler would receive it."""

import logging

from sprig import task_log


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Dependency:
    _sprig_tid = 3


def test_records_carry_parsls_attributes() -> None:
    task_log.loaded("runinfo/000", ("threads",), initialize_logging=True)
    recorder = Recorder()
    logging.getLogger("parsl").addHandler(recorder)
    try:
        assert task_log.enabled()
        task_log.submitted(7, "double", [Dependency()])
        task_log.ended(7, "exec_done", None, ran=True)
    finally:
        logging.getLogger("parsl").removeHandler(recorder)
    attributes = [record.__dict__ for record in recorder.records]
    assert {"parsl.task": 7, "parsl.dependency_task": 3}.items() <= attributes[0].items()
    assert any(a.get("parsl.app_name") == "double" for a in attributes)
    assert [a["parsl.task_state"] for a in attributes if "parsl.task_state" in a] == ["pending", "launched", "exec_done"]
    assert [a["parsl.executor"] for a in attributes if "parsl.executor" in a] == ["threads"]


def test_nothing_is_made_without_a_handler() -> None:
    task_log.loaded(None, ("a", "b"), initialize_logging=True)
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()
    try:
        assert not task_log.enabled()
    finally:
        root.handlers.extend(saved)
