/// Parsl's monitoring database, table by table: the one place Sprig writes its shape down.
///
/// The tables, columns, declared types, NOT NULL constraints, primary keys, foreign keys and the
/// one index are Parsl's (`parsl/monitoring/db_manager.py`, Parsl 2026.10.26), so that Parsl's
/// own tools (`parsl-visualize`) and people's existing queries read a database Sprig wrote.
/// `contracts/monitoring/parsl-schema.json` holds what SQLite reports for a database Parsl itself
/// created; a test checks these statements against it.
///
/// Facts a writer and a reader both need:
/// - Times (`DATETIME` columns) are text, `YYYY-MM-DD HH:MM:SS.ffffff`, in the run's local time
///   (``MonitoringTimestamp``).
/// - One database holds many runs; `run_id` (a UUID string) tells them apart in every table.
/// - Task and try ids are Parsl's: tasks numbered from 0 in a run, tries from 0 in a task.
/// - `block_id` is text (`"0"`, `"1"`, …), empty or NULL for executors without blocks.
package enum MonitoringSchema {
    /// One table: its name and the statement that creates it.
    package struct Table: Sendable {
        package let name: String
        package let createStatement: String
    }

    /// `workflow`: one row per run of a workflow.
    ///
    /// Written when the run starts (`time_began`, host, user, run directory) and updated as tasks
    /// finish (the two counts) and when it ends (`time_completed`, NULL while it runs or if the
    /// engine died).
    static let workflow = Table(name: "workflow", createStatement: """
        CREATE TABLE IF NOT EXISTS workflow (
            run_id TEXT NOT NULL,
            workflow_name TEXT,
            workflow_version TEXT,
            time_began DATETIME NOT NULL,
            time_completed DATETIME,
            host TEXT NOT NULL,
            user TEXT NOT NULL,
            rundir TEXT NOT NULL,
            tasks_failed_count INTEGER NOT NULL,
            tasks_completed_count INTEGER NOT NULL,
            PRIMARY KEY (run_id)
        )
        """)

    /// `task`: one row per task (app call) of a run.
    ///
    /// `task_depends` lists the ids of the tasks it waited for, comma-separated; `task_func_name`
    /// is the app's name; `task_time_invoked` is when the app was called, `task_time_returned`
    /// when its future completed; `task_fail_count` counts failed tries. `task_memoize` is the
    /// app's cache setting as text, `task_hashsum` its cache key (indexed).
    static let task = Table(name: "task", createStatement: """
        CREATE TABLE IF NOT EXISTS task (
            task_id INTEGER NOT NULL,
            run_id TEXT NOT NULL,
            task_depends TEXT,
            task_func_name TEXT NOT NULL,
            task_memoize TEXT NOT NULL,
            task_hashsum TEXT,
            task_inputs TEXT,
            task_outputs TEXT,
            task_stdin TEXT,
            task_stdout TEXT,
            task_stderr TEXT,
            task_time_invoked DATETIME,
            task_time_returned DATETIME,
            task_fail_count INTEGER NOT NULL,
            task_fail_cost FLOAT NOT NULL,
            PRIMARY KEY (task_id, run_id)
        )
        """)

    /// `try`: one row per attempt to run a task (a retried task has several).
    ///
    /// Launched is when the engine handed it to an executor, running when a worker started it,
    /// returned when its outcome came back. `block_id` and `hostname` say where it ran.
    /// `task_fail_history` is the failure this try ended with (empty when it succeeded).
    static let `try` = Table(name: "try", createStatement: """
        CREATE TABLE IF NOT EXISTS try (
            try_id INTEGER NOT NULL,
            task_id INTEGER NOT NULL,
            run_id TEXT NOT NULL,
            block_id TEXT,
            hostname TEXT,
            task_executor TEXT NOT NULL,
            task_try_time_launched DATETIME,
            task_try_time_running DATETIME,
            task_try_time_returned DATETIME,
            task_fail_history TEXT,
            task_joins TEXT,
            PRIMARY KEY (try_id, task_id, run_id)
        )
        """)

    /// `status`: one row per state a task entered (`pending`, `launched`, `running`,
    /// `running_ended`, `exec_done`, `fail_retryable`, `failed`, `dep_fail`, `memo_done`,
    /// `joining`: Parsl's `States` names), with when and in which try.
    static let status = Table(name: "status", createStatement: """
        CREATE TABLE IF NOT EXISTS status (
            task_id INTEGER NOT NULL,
            task_status_name TEXT NOT NULL,
            timestamp DATETIME NOT NULL,
            run_id TEXT NOT NULL,
            try_id INTEGER NOT NULL,
            PRIMARY KEY (task_id, run_id, task_status_name, timestamp),
            FOREIGN KEY (run_id) REFERENCES workflow (run_id)
        )
        """)

    /// `block`: one row per observed state of a block (a provider job): `PENDING`, `RUNNING`,
    /// `CANCELLED`, `COMPLETED`, `FAILED`, `TIMEOUT`, `HELD`, `MISSING`, `SCALED_IN`, `UNKNOWN`
    /// (Parsl's `JobState` names), written when it changes or is polled.
    static let block = Table(name: "block", createStatement: """
        CREATE TABLE IF NOT EXISTS block (
            run_id TEXT NOT NULL,
            executor_label TEXT NOT NULL,
            block_id TEXT NOT NULL,
            job_id TEXT,
            timestamp DATETIME NOT NULL,
            status TEXT NOT NULL,
            PRIMARY KEY (run_id, block_id, executor_label, timestamp)
        )
        """)

    /// `node`: one row per report from a manager (one per node of a block): its host, CPUs,
    /// memory in bytes, worker count and Python version; `uid` names the manager. Parsl adds a row
    /// each time a manager's registration or activity changes, so a node has several.
    static let node = Table(name: "node", createStatement: """
        CREATE TABLE IF NOT EXISTS node (
            id INTEGER NOT NULL,
            run_id TEXT NOT NULL,
            hostname TEXT NOT NULL,
            uid TEXT NOT NULL,
            block_id TEXT NOT NULL,
            cpu_count INTEGER NOT NULL,
            total_memory BIGINT NOT NULL,
            active BOOLEAN NOT NULL,
            worker_count INTEGER NOT NULL,
            python_v TEXT NOT NULL,
            timestamp DATETIME NOT NULL,
            last_heartbeat DATETIME NOT NULL,
            PRIMARY KEY (id)
        )
        """)

    /// `resource`: one row per sample of the process running a try (the worker, with its
    /// children), taken every `resource_monitoring_interval` seconds: CPU times in seconds
    /// (cumulative), memory in bytes and percent, disk bytes read and written, context switches.
    /// Executors that run tasks inside the engine (the thread executor) write none.
    static let resource = Table(name: "resource", createStatement: """
        CREATE TABLE IF NOT EXISTS resource (
            try_id INTEGER NOT NULL,
            task_id INTEGER NOT NULL,
            run_id TEXT NOT NULL,
            timestamp DATETIME NOT NULL,
            resource_monitoring_interval FLOAT,
            psutil_process_pid INTEGER,
            psutil_process_memory_percent FLOAT,
            psutil_process_children_count FLOAT,
            psutil_process_time_user FLOAT,
            psutil_process_time_system FLOAT,
            psutil_process_memory_virtual FLOAT,
            psutil_process_memory_resident FLOAT,
            psutil_process_disk_read FLOAT,
            psutil_process_disk_write FLOAT,
            psutil_process_status TEXT,
            psutil_cpu_num TEXT,
            psutil_process_num_ctx_switches_voluntary FLOAT,
            psutil_process_num_ctx_switches_involuntary FLOAT,
            PRIMARY KEY (try_id, task_id, run_id, timestamp),
            FOREIGN KEY (run_id) REFERENCES workflow (run_id)
        )
        """)

    /// Every table, in the order they are created.
    package static let tables: [Table] = [workflow, task, `try`, status, block, node, resource]

    /// The indexes beside the tables: Parsl's one, on the cache key.
    package static let indexStatements = [
        "CREATE INDEX IF NOT EXISTS ix_task_task_hashsum ON task (task_hashsum)",
    ]

    /// Creates whatever tables and indexes are missing, in one transaction; existing ones (and
    /// their rows: earlier runs) are left as they are.
    ///
    /// - Throws: ``StorageError`` when the database cannot be written.
    package static func create(in database: SQLiteDatabase) throws {
        try database.transaction {
            for table in tables { try database.execute(table.createStatement) }
            for index in indexStatements { try database.execute(index) }
        }
    }
}
