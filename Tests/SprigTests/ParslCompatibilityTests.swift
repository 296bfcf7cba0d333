import Foundation
import Testing

/// Parsl scripts that broke before (issue 9): each script asserts Parsl's behaviour itself and
/// prints what it checked; it runs on the thread executor and on the process executor.
@Suite("Parsl compatibility", .serialized, .timeLimit(.minutes(3)))
struct ParslCompatibilityTests {
    static let executors: [[String]] = [["--config", "threads"], ["--config", "htex"]]

    /// Runs `Scripts/compat/NAME.py FOLDER` with `sprig run`, in a scratch folder, and checks that
    /// nothing it started (its managers, whose logs are under that folder) outlives it.
    func run(_ name: String, _ config: [String] = [], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try runSprig(["run"] + config + ["\(scriptsFolder)/compat/\(name).py", folder], in: folder, environment: environment)
        #expect(eventually { processesMentioning(folder).isEmpty }, "processes left: \(processesMentioning(folder))")
        return result
    }

    /// Runs a compat script, expecting exit status 0 and exactly `expected` on stdout (stderr is
    /// shown when either fails).
    @discardableResult
    func expectRun(_ name: String, _ config: [String] = [], environment: [String: String] = [:], prints expected: String,
                   sourceLocation: SourceLocation = #_sourceLocation) throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try run(name, config, environment: environment)
        #expect(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stdout == expected, "\(result.stderr)", sourceLocation: sourceLocation)
        return result
    }

    @Test(arguments: [["LC_ALL": "C", "LANG": "C"], ["LANG": "C.UTF-8"], ["PYTHONUTF8": "1", "LC_ALL": "C"]])
    func nonASCIITextWorksWhateverTheLocale(environment: [String: String]) throws {
        for config in Self.executors {
            let result = try run("text_encoding", config, environment: environment)
            #expect(result.status == 0, "\(config) \(environment): \(result.stderr)")
            #expect(result.stdout.contains("café — ünïcödé"))
            #expect(result.stdout.contains("bonjour Zoë — ça va"))
            #expect(result.stdout.contains("bash déjà"))
        }
    }

    @Test(arguments: executors)
    func walltimeFromPythonTakesSeconds(config: [String]) throws {
        try expectRun("walltime", config, prints: "ok values\nok python timeout AppTimeout\nok bash timeout AppTimeout\nok bad values refused\n")
    }

    @Test(arguments: executors)
    func walltimesTooLongForAnyClockAreNoWalltime(config: [String]) throws {
        try expectRun("walltime_unbounded", config, prints: "ok unbounded walltimes\n")
    }

    @Test func configNumbersPastWhatAClockOrAnIntHoldsMeanNoLimit() throws {
        try expectRun("huge_numbers", prints: "ok huge numbers 42\n")
    }

    @Test(arguments: executors)
    func joinAppsWhoseInnerFuturesFinishedFirstJoinThem(config: [String]) throws {
        try expectRun("join_timing", config, prints: "ok joins\nok not a future: True\n")
    }

    @Test(arguments: executors)
    func stdStreamTargetsAcceptPathsAndFilesAndRejectBadSpecsAsParslDoes(config: [String]) throws {
        let result = try run("std_streams", config)
        #expect(result.status == 0, "\(result.stderr)")
        // (A command with no stdout target writes to this process's stdout: only the checks count.)
        let checks = result.stdout.split(separator: "\n").filter { $0.hasPrefix("ok ") }.map { $0 + "\n" }.joined()
        #expect(checks == "ok targets\nok bad specs are TypeErrors\nok bad files are BadStdStreamFile\nok None means no redirection\n",
                "\(result.stderr)")
    }

    @Test(arguments: executors)
    func outputsMayBeATuple(config: [String]) throws {
        try expectRun("outputs_tuple", config, prints: "ok outputs\n")
    }

    @Test(arguments: executors)
    func plainConcurrentFuturesAreDependencies(config: [String]) throws {
        try expectRun("plain_futures", config, prints: "ok plain futures\n")
    }

    @Test(arguments: executors)
    func dependencyErrorsNameTheImmediateFailuresAndTheRootObject(config: [String]) throws {
        try expectRun("dependency_errors", config, prints: "ok first\nok middle\n")
    }

    @Test func prefetchCapacityZeroRunsTasks() throws {
        try expectRun("prefetch_zero", prints: "squares \((0..<50).map { $0 * $0 }.reduce(0, +))\n")
    }

    @Test func aTaskWaitingForAThreadIsQueuedNotRunning() throws {
        let result = try run("task_counts")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("counts 1 2 0\nresults [1, 1, 1]\n"), "\(result.stdout)")
    }

    @Test func cancelLiftedFuturesRetryHandlerAutoLognameAndTaskRecordsWork() throws {
        try expectRun("extras", prints: "ok cancel True\nok lifted\nok retry_handler BashExitFailure\nok auto logname hello goodbye\nok cleanup_called True\n")
    }

    @Test func anEngineWithoutCloudpickleRunsModuleFunctionsAndSaysOnceWhatCannotTravel() throws {
        let result = try expectRun("no_cloudpickle", prints: "module function 42\n")
        #expect(result.stderr.components(separatedBy: "cloudpickle is not importable").count == 2, "\(result.stderr)")
    }

    @Test func processExecutorWalltimesCountFromTheStartOnAWorker() throws {
        try expectRun("htex_walltime", prints: "running 1 queued 1\nbehind 0.1 first 1.0\n")
    }

    @Test func stdAutopathChoosesAutoLognameTargetsOnceAndFileTargetsAreDataFutures() throws {
        try expectRun("std_autopath", prints: "autopath hello 1\nraised at the call: no stderr for you\nfile target file.out hello\n")
    }

    @Test(arguments: executors)
    func futuresInDictKeysAndSetsAreDependencies(config: [String]) throws {
        try expectRun("containers", config, prints: "{'a': [30, 'ten'], 'b': 20}\n['x', 'y']\n['plain']\n[(['deep'],)]\n['p', 'q'] ['p']\n")
    }

    @Test func cleanupWaitsForJoinAppsAndPlainFuturesThatEndMeanwhile() throws {
        try expectRun("cleanup_waits", prints: "after cleanup 1 42\n")
    }

    @Test func versionIsPrinted() throws {
        let result = try runSprig(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("sprig 0.") && result.stdout.contains("Python 3."), "\(result.stdout)")
    }
}

/// PIDs of processes whose command line mentions `text`.
func processesMentioning(_ text: String) -> [Int32] {
    let mine = getpid()
    return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> Int32? in
        guard let pid = Int32(entry), pid != mine,
              let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
        return String(decoding: data, as: UTF8.self).contains(text) ? pid : nil
    }
}
