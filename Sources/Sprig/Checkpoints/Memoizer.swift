import Dispatch
import Foundation
import Logging
import PythonBridge
import Synchronization

/// The kernel's app cache and checkpoint writer (Parsl's `BasicMemoizer`), one per kernel.
///
/// What it knows (``known``, behind a lock): every entry of the stores it loaded at start (keys
/// only; a result's bytes are read on a hit), and every call of this run that ended (the value
/// itself, or the failure), recorded as the call ends, before its future completes, so a call
/// checked after an identical one was recorded always sees it.
///
/// A check whose key is already known (a plain call keyed in Swift, ``MemoRequest/plainKey``) and
/// that misses is answered at once on the caller's thread: no hand-off, no GIL. Everything else
/// goes to one thread of its own (`sprig-memo`), in arrival order: keys computed in Python, hits
/// (so completing a hit never recurses into the launching thread's stack), reading stored results,
/// and the writes. Items that run Python (keys of Python and bash apps, pickling thread-executor
/// results) are handled in batches under one GIL scope, so the memoizer never holds up the
/// kernel's or executors' threads.
///
/// With a ``Checkpoints/mode`` it writes this run's successes, hits included, to
/// `<run folder>/checkpoint/cache.db`: at once in ``Checkpoints/Mode/taskExit`` mode (one
/// transaction for whatever arrived since the thread last woke, and a task's future completes only
/// once its row is committed, so `kill -9` of the engine never loses a task that had finished),
/// else when the mode says and at ``close()``.
final class Memoizer: Sendable {
    private enum Item: Sendable {
        case check(MemoTicket, @Sendable (MemoVerdict) -> Void)
        /// A success of this run to store (its outcome is already in ``known``), and what to run
        /// once it is committed (``Checkpoints/Mode/taskExit``).
        case store(MemoTicket, any Sendable, (@Sendable () -> Void)?)
        case flush(DispatchSemaphore?)
    }

    private enum Known {
        /// A result of this run: the value itself, and its stored form if it has one.
        case value(any Sendable)
        /// A failure of this run, reused in this run only.
        case failure(any Error, TaskID)
        /// An entry of an earlier run's store: which store, and the result's hash.
        case stored(Int, String)
    }

    /// What only the memoizer's thread touches (the SQLite connections among it).
    private final class ThreadState: @unchecked Sendable {  // used on the memoizer's thread only (and by init/close after join)
        var loaded: [CheckpointStore] = []
        var store: CheckpointStore?
        var unwritten: [(StoredEntry, StoredResult)] = []
        var written = 0
    }

    private let settings: Checkpoints
    private let runFolder: String
    private let logger: Logger
    private let queue = Mutex<(items: [Item], closed: Bool)>(([], false))
    private let wake = DispatchSemaphore(value: 0)
    private let threadState = ThreadState()
    /// What the cache knows, by key: read and written from any thread, under its lock.
    private let known = Mutex<[String: Known]>([:])
    private let thread = Mutex<JoinableThread?>(nil)

    /// Loads the earlier stores the settings name (keys only) and starts the thread.
    /// - Throws: ``ConfigError`` naming a checkpoint folder that holds no store or cannot be read.
    init(settings: Checkpoints, runDirectory: String, runFolder: String, logger: Logger) throws {
        self.settings = settings
        self.runFolder = runFolder
        self.logger = logger
        for folder in settings.foldersToLoad(runDirectory: runDirectory, runFolder: runFolder) {
            guard CheckpointStore.exists(in: folder) else {
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                    throw ConfigError(message: "checkpoint folder \(folder) does not exist; "
                                      + "name folders that parsl.utils.get_all_checkpoints() returns")
                }
                // A run that checkpointed nothing, or a checkpoint Parsl wrote (its keys are not Sprig's).
                logger.info("checkpoint folder \(folder) holds no Sprig checkpoint store (\(CheckpointStore.fileName)): nothing loaded from it")
                continue
            }
            do {
                let store = try CheckpointStore(folder: folder, create: false)
                let index = threadState.loaded.count
                threadState.loaded.append(store)
                let entries = try store.keys()
                known.withLock { known in
                    known.reserveCapacity(known.count + entries.count)
                    for (key, result) in entries { known[key] = .stored(index, result) }
                }
            } catch {
                throw ConfigError(message: "cannot load the checkpoint store in \(folder): \(error)")
            }
        }
        let loaded = known.withLock { $0.count }
        if loaded > 0 {
            logger.info("app cache loaded \(loaded) results from \(threadState.loaded.count) checkpoint folders")
        }
        let started = try JoinableThread(name: "sprig-memo") { [self] in run() }
        thread.withLock { $0 = started }
    }

    /// Looks a task up once its dependencies have succeeded. `then` runs on the caller's thread for
    /// a plain call that misses, else on the memoizer's thread.
    func check(_ ticket: MemoTicket, then: @escaping @Sendable (MemoVerdict) -> Void) {
        guard settings.memoize else { return then(.miss) }
        if ticket.key == nil, let key = ticket.request.plainKey?() { ticket.key = key }  // (no GIL: on this thread)
        if let key = ticket.key, !key.lookUp || known.withLock({ $0[key.value] == nil }) { return then(.miss) }
        if !push(.check(ticket, then)) { then(.miss) }
    }

    /// Records how a task ended (after its last try), before its future completes: a later check
    /// of the same call sees it at once. A success to store is handed to the memoizer's thread.
    /// `then` completes the task: at once, or, for a success in ``Checkpoints/Mode/taskExit`` mode,
    /// on the memoizer's thread once the success is committed to the store.
    func record(_ ticket: MemoTicket, _ outcome: Outcome, then: @escaping @Sendable () -> Void = {}) {
        guard settings.memoize, let key = ticket.key?.value else { return then() }
        switch outcome {
        case .success(let value):
            known.withLock { $0[key] = .value(value) }
            switch settings.mode {
            case nil: then()
            case .taskExit?: if !push(.store(ticket, value, then)) { then() }  // (completes once committed)
            case _?: _ = push(.store(ticket, value, nil)); then()
            }
        case .failure(let error):
            if !(error is MemoizedFailure) { known.withLock { $0[key] = .failure(error, ticket.task) } }
            then()
        }
    }

    /// Writes what this run has not written yet, and returns once it is written (Parsl's
    /// `dfk().checkpoint()`).
    func checkpoint() {
        let done = DispatchSemaphore(value: 0)
        if push(.flush(done)) { done.wait() }
    }

    /// Writes what is left, stops the thread and joins it. Call once every task has ended.
    func close() {
        let first = queue.withLock { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        wake.signal()
        thread.withLock { $0 }?.join()
    }

    private func push(_ item: Item) -> Bool {
        let (accepted, first) = queue.withLock { state -> (Bool, Bool) in
            guard !state.closed else { return (false, false) }
            state.items.append(item)
            return (true, state.items.count == 1)
        }
        // The thread takes every item at each wake-up: only the first of a batch needs to wake it.
        if first { wake.signal() }
        return accepted
    }

    // MARK: The memoizer's thread

    private func run() {
        let period: Duration? = if case .periodic(let period)? = settings.mode { period } else { nil }
        var nextFlush = period.map { ContinuousClock.now + $0 }
        while true {
            if let deadline = nextFlush {
                let left = ContinuousClock.now.duration(to: deadline)
                if left > .zero { _ = wake.wait(timeout: .now() + left.dispatchInterval) }
            } else {
                wake.wait()
            }
            let (items, closed) = queue.withLock { state in
                defer { state.items = [] }
                return (state.items, state.closed)
            }
            handle(items)
            if let deadline = nextFlush, ContinuousClock.now >= deadline, let period {
                flush(reason: "periodic")
                nextFlush = deadline + period
            }
            if closed {
                if settings.mode != nil {
                    flush(reason: "final")
                    openStore()  // the folder exists once a run checkpoints, as Parsl's does
                }
                threadState.loaded = []
                threadState.store = nil
                return
            }
        }
    }

    private func handle(_ items: [Item]) {
        guard !items.isEmpty else { return }
        let python = Python.isStarted && items.contains { item in
            switch item {
            case .check(let ticket, _): ticket.key == nil && ticket.request.usesPython
            case .store(let ticket, let value, _): ticket.request.encodeUsesPython(value)
            case .flush: false
            }
        }
        var verdicts: [(@Sendable (MemoVerdict) -> Void, MemoVerdict)] = []
        var flushes: [DispatchSemaphore?] = []
        var committed: [@Sendable () -> Void] = []
        let work = {
            for item in items {
                switch item {
                case .check(let ticket, let then): verdicts.append((then, self.look(up: ticket)))
                case .store(let ticket, let value, let then):
                    self.store(ticket, value)
                    if let then { committed.append(then) }
                case .flush(let done): flushes.append(done)
                }
            }
        }
        if python { withGIL(work) } else { work() }
        if settings.mode == .taskExit { flush(reason: nil) }
        // Their rows are committed (or their write failed, and said so): their tasks complete.
        for then in committed { then() }
        for done in flushes {
            flush(reason: "manual")
            done?.signal()
        }
        // The kernel runs what follows (completing hits, handing misses to executors) without the GIL.
        for (then, verdict) in verdicts { then(verdict) }
    }

    private func look(up ticket: MemoTicket) -> MemoVerdict {
        let key: MemoRequest.Key
        if let computed = ticket.key {
            key = computed
        } else {
            do { key = try ticket.request.key(ticket.task) } catch { return .unkeyable(error) }
            ticket.key = key
        }
        guard key.lookUp, let found = known.withLock({ $0[key.value] }) else { return .miss }
        switch found {
        case .value(let value):
            return .hit(.success(value))
        case .failure(let error, let task):
            return .hit(.failure(error as? MemoizedFailure ?? MemoizedFailure(original: error, originalTask: task)))
        case .stored(let index, let hash):
            do {
                guard let stored = try threadState.loaded[index].result(hash: hash) else { return .miss }
                let value = try ticket.request.decode(stored)
                known.withLock { $0[key.value] = .value(value) }
                keep(ticket, key: key.value, stored)
                return .hit(.success(value))
            } catch {
                logger.info("app cache: cannot read the result of \(ticket.request.app) from a checkpoint: \(error); the task runs")
                return .miss
            }
        }
    }

    private func store(_ ticket: MemoTicket, _ value: any Sendable) {
        guard let key = ticket.key?.value else { return }
        do {
            if let stored = try ticket.request.encode(value) { keep(ticket, key: key, stored) }
        } catch {
            logger.info("app cache: the result of task \(ticket.task) (app \(ticket.request.app)) cannot be stored: \(error); it is reused in this run only")
        }
    }

    private func keep(_ ticket: MemoTicket, key: String, _ stored: StoredResult) {
        guard settings.mode != nil else { return }
        let entry = StoredEntry(key: key, resultHash: stored.hash, app: ticket.request.app, kind: ticket.request.kind,
                                task: ticket.task.rawValue, time: Date().timeIntervalSince1970)
        threadState.unwritten.append((entry, stored))
    }

    /// This run's store, created on first use.
    @discardableResult
    private func openStore() -> CheckpointStore? {
        if let store = threadState.store { return store }
        let folder = (runFolder as NSString).appendingPathComponent(CheckpointStore.folderName)
        do {
            threadState.store = try CheckpointStore(folder: folder, create: true)
        } catch {
            logger.error("app cache: cannot create the checkpoint store in \(folder): \(error)")
        }
        return threadState.store
    }

    private func flush(reason: String?) {
        let rows = threadState.unwritten
        threadState.unwritten = []
        guard !rows.isEmpty else {
            if reason != nil { logger.info("No tasks checkpointed in this pass") }
            return
        }
        do {
            guard let store = openStore() else { return }
            try store.write(rows)
            threadState.written += rows.count
            if reason != nil { logger.info("Done checkpointing \(rows.count) tasks") }
        } catch {
            logger.error("app cache: cannot write \(rows.count) results to the checkpoint store: \(error)")
        }
    }
}
