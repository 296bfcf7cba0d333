import Foundation
import Testing

/// Runs the `sprig` command built beside the tests, bounded in time.
func runSprig(_ arguments: [String], in folder: String? = nil, timeout: Duration = .seconds(60),
              environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    try runBounded(try builtBinary("sprig"), arguments, in: folder, timeout: timeout, environment: environment)
}

/// Runs a program with these arguments (and the environment, changed by `environment`), collects
/// its output, and kills it — failing the test — if it runs past `timeout`.
func runBounded(_ program: String, _ arguments: [String], in folder: String? = nil, timeout: Duration = .seconds(60),
                environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // One box per stream: the two readers finish in any order and must not overwrite each other.
    let collectedOut = LockedValue(Data()), collectedErr = LockedValue(Data())
    let readers = DispatchGroup()
    for (pipe, box) in [(out, collectedOut), (err, collectedErr)] {
        readers.enter()
        Thread.detachNewThread {
            box.set(pipe.fileHandleForReading.readDataToEndOfFile())
            readers.leave()
        }
    }
    let ended = eventually(timeout: timeout) { !process.isRunning }
    if !ended { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    _ = readers.wait(timeout: .now() + 10)
    try #require(ended, "\(program) \(arguments.joined(separator: " ")) did not finish within \(timeout)")
    let (stdout, stderr) = (collectedOut.get(), collectedErr.get())
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

/// Starts a program and reads its standard output until `marker` appears (or the output ends).
func startAndReadUntil(_ marker: String, _ program: String, _ arguments: [String], stderr: Pipe? = nil) throws -> (Process, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    if let stderr { process.standardError = stderr }
    try process.run()
    var text = ""
    while !text.contains(marker) {
        let chunk = out.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        text += String(decoding: chunk, as: UTF8.self)
    }
    return (process, text)
}

/// Waits at most 20 s for the program to end; kills it (and fails) if it does not.
func waitBounded(_ process: Process) throws {
    let ended = eventually(timeout: .seconds(20)) { !process.isRunning }
    if !ended { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    try #require(ended, "the program did not end")
}

/// An executable built beside the tests.
func builtBinary(_ name: String) throws -> String {
    var folder = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).standardizedFileURL.deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = folder.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        folder.deleteLastPathComponent()
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug/\(name)").standardizedFileURL.path
}

let packageFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL.path
let scriptsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts").path

func scratchFolder() throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-run-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
}

@Suite("The sprig command", .serialized, .timeLimit(.minutes(3)))
struct SprigCommandTests {
    @Test(arguments: [[], ["--config", "htex"]])
    func theArticlesProgramsRunUnchanged(config: [String]) throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let multiply = try runSprig(["run"] + config + ["\(packageFolder)/Examples/parsl/multiply.py"], in: folder)
        #expect(multiply.status == 0, "\(multiply.stderr)")
        #expect(multiply.stdout.split(separator: "\n").last == "45")

        let hello = try runSprig(["run"] + config + ["\(packageFolder)/Examples/parsl/echo_hello.py"], in: folder)
        #expect(hello.status == 0, "\(hello.stderr)")
        #expect(hello.stdout.contains("Hello World!"))
        #expect(try String(contentsOfFile: folder + "/echo-hello.stdout", encoding: .utf8).contains("Hello World!"))

        let numbers = try runSprig(["run"] + config + ["\(packageFolder)/Examples/parsl/random_numbers.py"], in: folder)
        #expect(numbers.status == 0, "\(numbers.stderr)")
        let values = numbers.stdout.trimmingCharacters(in: CharacterSet(charactersIn: "[]\n")).split(separator: ",")
            .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        #expect(values.count == 5 && values.allSatisfy { (1...10).contains($0) }, "\(numbers.stdout)")
    }

    @Test func theArticlesHTEXConfigRuns() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try runSprig(["run", "\(packageFolder)/Examples/parsl/htex_local.py"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("45\n"))
    }

    @Test(arguments: [[], ["--config", "htex"]])
    func futuresDependenciesFailuresAndJoinAppsBehaveAsInParsl(config: [String]) throws {
        try expectLines(of: "futures_api.py", config, [
            "tid True True", "result 3 30", "nested [[3, (30, 5)], {'k': 3}]", "inputs 36", "done True True",
            "callback True", "original type ZeroDivisionError", "exception() ZeroDivisionError", "dependency DependencyError True",
            "bash exit BashExitFailure 15", "outputs 1 payload", "join list [1, 2, 3, 4]", "join one 101",
            "join failure JoinError", "cleaned",
        ])
    }

    @Test(arguments: [[], ["--config", "htex"]])
    func waitsForResultsHappenInTheEngineWithTimeoutsThreadsCallbacksAndCancellation(config: [String]) throws {
        try expectLines(of: "future_waits.py", config, [
            "waited 7 True True", "timeout True False", "exception timeout True", "after timeout 8", "exception() KeyError",
            "raised KeyError ('gone',)", "threads True", "callbacks [0, 1, 2] True", "waiting in the engine True",
            "cancel True True", "waiter ['cancelled']", "data future True True", "wait 4 0 [0, 1, 2, 3]", "cleaned",
        ])
    }

    /// Runs a script of `Scripts/` (given a scratch folder as its argument) and expects exactly these lines on its stdout.
    private func expectLines(of script: String, _ config: [String], _ expected: [String]) throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try runSprig(["run"] + config + ["\(scriptsFolder)/\(script)", folder], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.split(separator: "\n").map(String.init) == expected, "\(run.stdout)\n\(run.stderr)")
    }

    @Test func failedTasksAreForgottenOnceTheirFuturesAreDropped() throws {
        let run = try runSprig(["run", "\(scriptsFolder)/failed_futures_freed.py"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "tracked while held: True\ndependent names it: True\ntracked after drop: 0\n", "\(run.stdout)\n\(run.stderr)")
    }

    @Test func aConfigLoadsAsAContextManagerAndAgainAfterIt() throws {
        let run = try runSprig(["run", "\(scriptsFolder)/context_manager.py"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "42\n10\ndone\n")
    }

    @Test func eachLoadGetsARunFolderThatTheScriptSees() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try runSprig(["run", "\(scriptsFolder)/run_dir.py"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "runs/000 True\nruns/001 True\n", "\(run.stderr)")
    }

    /// A retry is a line in the log, not a traceback on stderr; `set_file_logger` gets the engine's
    /// lines; a failure the script does not handle still ends it as Python shows it.
    @Test func stderrStaysQuietAndTheLogsTellWhatHappened() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try runSprig(["run", "\(scriptsFolder)/logging_quiet.py"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "ok\nhandled never works\nTrue\n", "\(run.stderr)")
        #expect(run.stderr.isEmpty, "\(run.stderr)")
        let mine = try String(contentsOfFile: folder + "/mine.log", encoding: .utf8)
        #expect(mine.contains("task 0 retried: try 0 failed with RuntimeError: first run fails"), "\(mine)")
        #expect(mine.contains("task 1 ended: failed with ValueError: never works"), "\(mine)")
        let log = try String(contentsOfFile: folder + "/runinfo/000/parsl.log", encoding: .utf8)
        #expect(log.contains("task 0 ended: ok after 2 tries"), "\(log)")

        let unhandled = try runSprig(["run", "\(scriptsFolder)/logging_quiet.py", "raise"], in: folder)
        #expect(unhandled.status == 1)
        #expect(unhandled.stderr.contains("Traceback") && unhandled.stderr.contains("ValueError: never works"), "\(unhandled.stderr)")
    }

    /// Parsl's log configs: the script's format in `parsl.log`, with the engine's lines; JSON
    /// records; no log with `False` or `NoopLogging`.
    @Test func aLogConfigGetsTheEngineLinesAndFalseWritesNoLog() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try runSprig(["run", "\(scriptsFolder)/log_config.py"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "True True\nTrue\nTrue\nTrue False\n[]\n[]\n", "\(run.stderr)")
    }

    @Test func scriptsGetTheirArgumentsAndExitStatus() throws {
        let run = try runSprig(["run", "\(scriptsFolder)/exits.py", "7", "--flag"])
        #expect(run.status == 7)
        #expect(run.stdout == "argv ['7', '--flag']\n")
    }

    @Test func badScriptsAreReportedAsPythonWould() throws {
        let missing = try runSprig(["run", "/nowhere/script.py"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("can't open file '/nowhere/script.py'"))

        let syntax = try runSprig(["run", "\(scriptsFolder)/broken_syntax.py"])
        #expect(syntax.status == 1)
        #expect(syntax.stderr.contains("SyntaxError") && syntax.stderr.contains("broken_syntax.py"))

        let raises = try runSprig(["run", "\(scriptsFolder)/raises.py"])
        #expect(raises.status == 1)
        #expect(raises.stderr.contains("Traceback (most recent call last)") && raises.stderr.contains("in inner"))
        #expect(raises.stderr.contains("KeyError: 'missing thing'"))
        #expect(!raises.stderr.contains("runpy"))
    }

    @Test func anAppBeforeAnyConfigGetsAFriendlyError() throws {
        let run = try runSprig(["run", "\(scriptsFolder)/no_config.py"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("load") && run.stderr.contains("--config"))
        let withConfig = try runSprig(["run", "--config", "threads", "\(scriptsFolder)/no_config.py"])
        #expect(withConfig.status == 0, "\(withConfig.stderr)")
    }

    @Test func anUnknownConfigIsRefusedWithTheChoices() throws {
        let run = try runSprig(["run", "--config", "gpu", "\(scriptsFolder)/exits.py"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("threads") && run.stderr.contains("htex"))
    }

    @Test func progressPrintsASummaryWhenAsked() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let quiet = try runSprig(["run", "\(packageFolder)/Examples/parsl/multiply.py"], in: folder)
        #expect(!quiet.stderr.contains("sprig:"))
        let loud = try runSprig(["run", "--progress", "\(packageFolder)/Examples/parsl/multiply.py"], in: folder)
        #expect(loud.stderr.contains("sprig: 1 task: 1 done, 0 failed"), "\(loud.stderr)")
    }

    @Test(arguments: [[], ["--config", "htex"]])
    func ctrlCStopsTheRunPrintsTheSummaryAndExits130(config: [String]) throws {
        let err = Pipe()
        let (process, _) = try startAndReadUntil("started", try builtBinary("sprig"),
                                                 ["run", "--progress"] + config + ["\(scriptsFolder)/long_running.py"], stderr: err)
        kill(process.processIdentifier, SIGINT)
        try waitBounded(process)
        #expect(process.terminationStatus == 130)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stderr.contains("(interrupted)"), "\(stderr)")
    }
}
