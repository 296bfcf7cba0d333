import Foundation

/// The cached results a run directory holds, for people and tools (`sprig cache ls|clear`):
/// every run's checkpoint store (`<run>/checkpoint/cache.db`).
///
/// Threading: each call opens the stores, reads or changes them, and closes them; safe while a
/// kernel writes to the same directory (SQLite's WAL lets readers and one writer work at once).
public enum AppCache {
    /// One cached call.
    public struct Entry: Sendable, Equatable {
        /// The run folder whose store holds it.
        public let run: String
        /// The app's name.
        public let app: String
        /// `python`, `bash`, `swift`, or `join` (a join app's final value).
        public let kind: String
        /// The call's cache key (64 hex digits).
        public let key: String
        /// The task that stored it, in that run.
        public let task: Int
        /// When it was stored.
        public let time: Date
        /// The result's size in bytes.
        public let size: Int
    }

    /// Every entry of every run in `runDirectory`, oldest run first.
    /// - Throws: ``StorageError`` naming a store that cannot be read.
    public static func entries(in runDirectory: String) throws -> [Entry] {
        try CheckpointStore.checkpointFolders(in: runDirectory).flatMap { folder in
            let run = (folder as NSString).deletingLastPathComponent
            return try CheckpointStore(folder: folder, create: false).entries().map {
                Entry(run: run, app: $0.app, kind: $0.kind, key: $0.key, task: $0.task,
                      time: Date(timeIntervalSince1970: $0.time), size: $0.size)
            }
        }
    }

    /// Deletes the entries of `app` (every entry when `nil`) from every run's store in
    /// `runDirectory`, and the results no entry uses. Later runs run those calls again.
    /// - Returns: how many entries were deleted.
    /// - Throws: ``StorageError`` naming a store that cannot be changed.
    @discardableResult
    public static func clear(in runDirectory: String, app: String? = nil) throws -> Int {
        var deleted = 0
        for folder in CheckpointStore.checkpointFolders(in: runDirectory) {
            let store = try CheckpointStore(folder: folder, create: false, writable: true)
            deleted += try store.clear(app: app)
            let index = (folder as NSString).appendingPathComponent(CheckpointStore.indexName)
            try? FileManager.default.removeItem(atPath: index)
            try PickleIndex.append(try store.entries().map { StoredEntry(key: $0.key, resultHash: $0.resultHash, app: $0.app,
                                                                         kind: $0.kind, task: $0.task, time: $0.time) },
                                   to: index)
        }
        return deleted
    }
}
