"""Regenerates contracts/monitoring/: Parsl's monitoring schema as Parsl itself creates it.

Runs a small workflow under real Parsl with monitoring on (a thread executor and a
HighThroughputExecutor; apps that succeed, fail, are retried, fail by dependency; a bash app that
exits 1), then reads the database Parsl wrote with SQLite's own PRAGMAs and writes:

* ``parsl-schema.json`` — every table's columns (name, declared type, NOT NULL, primary-key
  position), indexes and foreign keys, in PRAGMA order;
* ``parsl-reference.db`` — the database itself (vacuumed), so that readers can be checked
  against rows Parsl wrote, not only against rows we wrote.

Run it with the pinned Parsl (see README.md beside this file)::

    /usr/bin/python3.11 -m venv /tmp/parsl-venv
    /tmp/parsl-venv/bin/pip install 'parsl[monitoring]==2026.10.26'
    /tmp/parsl-venv/bin/python contracts/monitoring/generate.py
"""

import json
import os
import shutil
import sqlite3
import sys
import tempfile

import parsl
from parsl.app.app import bash_app, python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
from parsl.monitoring import MonitoringHub
from parsl.providers import LocalProvider

HERE = os.path.dirname(os.path.abspath(__file__))
TABLES = ["workflow", "task", "try", "status", "block", "node", "resource"]


@python_app(executors=["threads"])
def add(a, b):
    return a + b


@python_app(executors=["htex"])
def busy(seconds):
    import time
    deadline = time.time() + seconds
    n = 0
    while time.time() < deadline:  # CPU, so that the resource rows show some
        n += 1
    return n


@python_app(executors=["htex"])
def flaky(n):
    raise ValueError(f"flaky({n}) always fails")


@python_app(executors=["threads"])
def after(x):
    return x


@bash_app(executors=["htex"])
def exits_one():
    return "exit 1"


def run_workflow(run_dir):
    config = Config(
        executors=[
            ThreadPoolExecutor(label="threads", max_threads=2),
            HighThroughputExecutor(label="htex", max_workers_per_node=2, cores_per_worker=1,
                                   provider=LocalProvider(init_blocks=1, max_blocks=1)),
        ],
        retries=1,
        run_dir=run_dir,
        monitoring=MonitoringHub(resource_monitoring_interval=0.2, workflow_name="parsl-reference"),
    )
    with parsl.load(config):
        futures = [add(i, i) for i in range(4)] + [busy(0.6) for _ in range(3)]
        failing = flaky(1)
        futures += [after(failing), exits_one()]
        for future in futures + [failing]:
            future.exception()


def schema(db):
    tables = {}
    for table in TABLES:
        columns = [{"name": name, "type": kind, "notnull": bool(notnull), "pk": pk}
                   for _, name, kind, notnull, _, pk in db.execute(f'PRAGMA table_info("{table}")')]
        indexes = []
        for _, name, unique, origin, _ in db.execute(f'PRAGMA index_list("{table}")'):
            if origin != "c":  # only indexes declared with CREATE INDEX, not those of a key
                continue
            cols = [row[2] for row in db.execute(f'PRAGMA index_info("{name}")')]
            indexes.append({"name": name, "unique": bool(unique), "columns": cols})
        keys = [{"column": row[3], "table": row[2], "to": row[4]}
                for row in db.execute(f'PRAGMA foreign_key_list("{table}")')]
        tables[table] = {"columns": columns, "indexes": indexes, "foreign_keys": keys}
    return tables


def render(version, tables):
    """The JSON text, one column (index, key) a line, so that a diff shows what changed."""
    def items(name, values):
        lines = ",\n".join("        " + json.dumps(v) for v in values)
        return f'      "{name}": [\n{lines}\n      ]' if values else f'      "{name}": []'
    parts = [f'    "{table}": {{\n' + ",\n".join(items(k, spec[k]) for k in ("columns", "indexes", "foreign_keys")) + "\n    }"
             for table, spec in tables.items()]
    return f'{{\n  "parsl_version": {json.dumps(version)},\n  "tables": {{\n' + ",\n".join(parts) + "\n  }\n}\n"


def main():
    # Parsl starts its interchange and workers as commands of its venv: put them on PATH.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    with tempfile.TemporaryDirectory() as scratch:
        run_dir = os.path.join(scratch, "runinfo")
        os.chdir(scratch)
        run_workflow(run_dir)
        db_path = os.path.join(run_dir, "monitoring.db")
        with sqlite3.connect(db_path) as db:
            tables = schema(db)
            counts = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES}
        db = sqlite3.connect(db_path)
        db.execute("VACUUM")
        db.close()
        shutil.copyfile(db_path, os.path.join(HERE, "parsl-reference.db"))
    with open(os.path.join(HERE, "parsl-schema.json"), "w") as f:
        f.write(render(parsl.__version__, tables))
    print("rows in parsl-reference.db:", json.dumps(counts), file=sys.stderr)


if __name__ == "__main__":
    main()
