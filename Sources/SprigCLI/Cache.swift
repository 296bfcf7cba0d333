import ArgumentParser
import Foundation
import Sprig

struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "See or drop the app cache's entries in a run directory.",
        discussion: """
            Apps made with cache=True (or AppOptions(cache:) in Swift) store their results in each run's \
            checkpoint store, RUN_DIR/NNN/checkpoint/cache.db, when the config sets a checkpoint mode; later \
            runs of the same RUN_DIR start with them.
            """,
        subcommands: [List.self, Clear.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the cached calls, per run and app.")

        @Argument(help: "The run directory (Config.run_dir).")
        var runDirectory = "runinfo"

        @Flag(name: .shortAndLong, help: "One line per cached call, with its key.")
        var long = false

        func run() throws {
            let entries = try readEntries { try AppCache.entries(in: runDirectory) }
            guard !entries.isEmpty else {
                print("sprig cache: no cached results in \(runDirectory)")
                return
            }
            if long {
                for entry in entries {
                    print("\(entry.run)  \(entry.app)  \(entry.kind)  task \(entry.task)  \(entry.size) B  \(entry.key)")
                }
                return
            }
            var groups: [String: (count: Int, bytes: Int)] = [:]
            var order: [String] = []
            for entry in entries {
                let name = "\(entry.run)  \(entry.app) (\(entry.kind))"
                if groups[name] == nil { order.append(name) }
                groups[name, default: (0, 0)].count += 1
                groups[name, default: (0, 0)].bytes += entry.size
            }
            for name in order {
                let group = groups[name]!
                print("\(name): \(group.count) results, \(group.bytes) bytes")
            }
            print("\(entries.count) cached results in \(order.count) groups")
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Drop cached calls: of one app, or all of them.")

        @Argument(help: "The run directory (Config.run_dir).")
        var runDirectory = "runinfo"

        @Option(name: .long, help: "Only this app's entries (its name as `sprig cache ls` shows it).")
        var app: String?

        func run() throws {
            let deleted = try readEntries { try AppCache.clear(in: runDirectory, app: app) }
            print("sprig cache: deleted \(deleted) cached results" + (app.map { " of app \($0)" } ?? "") + " in \(runDirectory)")
        }
    }
}

private func readEntries<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as StorageError {
        throw ValidationError(error.description)
    }
}
