import ArgumentParser
import Foundation
import Sprig

@main
struct SprigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sprig",
        abstract: "Parallel workflows in Python, run on Sprig's Swift engine.",
        version: SprigVersion.banner,
        subcommands: [Run.self, Report.self, Cache.self])
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a Python workflow script; its apps run on the Swift engine.",
        discussion: """
            The script runs as __main__ in the embedded interpreter, with sys.argv set, its folder on \
            the import path, and Parsl's import names (import parsl, from parsl.app.app import python_app, …) \
            provided by Sprig. Exit status: the script's own.
            """)

    @Option(name: .long, help: "Load a ready config before the script runs: \(Run.configNames). The script's own load() is then ignored.")
    var config: String?

    @Flag(name: .long, help: "Show progress even when standard error is not a terminal (as lines, once a second).")
    var progress = false

    @Argument(help: "The Python script to run.")
    var script: String

    @Argument(parsing: .captureForPassthrough, help: "Arguments for the script (its sys.argv[1:]).")
    var arguments: [String] = []

    static let configNames = ReadyConfig.allCases.map(\.rawValue).joined(separator: ", ")

    func run() throws {
        ProgramSignals.stopOnInterrupt()
        ProgramSignals.nameTasksInCrashReports()
        signal(SIGPIPE, SIG_IGN)  // as python3 does: a closed pipe is BrokenPipeError, not the end
        let readyConfig = try config.map { name in
            guard let ready = ReadyConfig(rawValue: name) else {
                throw ValidationError("unknown config \(name.debugDescription); choose one of: \(Self.configNames)")
            }
            return ready
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: script, isDirectory: &isFolder), !isFolder.boolValue else {
            FileHandle.standardError.write(Data("sprig: can't open file '\(script)': No such file or directory\n".utf8))
            throw ExitCode(2)
        }
        let runner = ScriptRunner(script: script, arguments: arguments, readyConfig: readyConfig)
        let display = ProgressDisplay(engine: runner.engine, forced: progress)
        let status = try runner.run(onStart: { try display.start() }, onEnd: { display.stop(interrupted: $0) })
        throw ExitCode(status)
    }
}
