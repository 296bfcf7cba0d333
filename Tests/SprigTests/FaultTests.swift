import Foundation
import PythonBridge
@testable import Sprig
import Testing

/// Faults a user meets that must fail one task (or be named), never the program.
@Suite("Faults", .serialized, .timeLimit(.minutes(2)))
struct FaultTests {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/faults").path

    /// A list nested 20,000 deep fails that call naming the app; the run goes on and exits 0.
    /// (The recursion over the argument overflowed the stack: `sprig` died with signal 11.)
    @Test(arguments: [["--config", "threads"], ["--config", "htex"]])
    func aDeeplyNestedArgumentFailsItsTaskOnly(config: [String]) throws {
        let result = try runSprig(["run"] + config + ["\(Self.scripts)/deep_argument.py"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("TaskConversionError task 0 (app depth): an argument is nested more than 1000"), "\(result.stdout)")
        #expect(result.stdout.hasSuffix("ok 3\n"), "\(result.stdout)")
    }

    /// A segmentation fault in a thread-executor app cannot be survived, but the report names the
    /// task and app. (It named neither.)
    @Test func aCrashInAThreadAppNamesTheTask() throws {
        let result = try runSprig(["run", "--config", "threads", "\(Self.scripts)/segfault.py"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("sprig: crashed while running task 0 (app crash)"), "\(result.stderr.prefix(2000))")
    }

    /// An exception whose `__str__` raises arrives as itself. (On workers the report of it failed
    /// and the script got the `ValueError` its `__str__` raised.)
    @Test(arguments: [["--config", "threads"], ["--config", "htex"]])
    func anExceptionThatCannotBePrintedArrivesAsItself(config: [String]) throws {
        let result = try runSprig(["run"] + config + ["\(Self.scripts)/unprintable_exception.py"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "caught Unprintable\n", "\(result.stderr)")
    }
}

@Suite("worker_init", .serialized, .timeLimit(.minutes(2)))
struct WorkerInitTests {
    /// Whatever `worker_init` prints goes to the block's log, and what it exports reaches the
    /// workers. (Its output shared the frame stream: "its stream broke: unknown frame type 105".)
    @Test func whatWorkerInitPrintsGoesToTheBlocksLog() throws {
        let setup = "echo hello from the profile; echo and a warning >&2; export SPRIG_TEST_INIT=seen"
        let h = try ProcessHarness(workers: 1, provider: LocalProvider(initBlocks: 1, maxBlocks: 1, workerInit: setup))
        defer { h.close() }
        #expect(try h.python("environment_value")("SPRIG_TEST_INIT").result(as: String.self) == "seen")
        h.rememberProcesses()
        let log = try String(contentsOfFile: h.dfk.runFolder + "/htex/block-0/block.stderr", encoding: .utf8)
        #expect(log.contains("hello from the profile") && log.contains("and a warning"), "\(log)")
    }

    /// A `worker_init` that fails says why, in the error of the tasks that could not run.
    @Test func aFailingWorkerInitIsReportedWithWhatItSaid() throws {
        let setup = "echo cannot activate the environment >&2; exit 3"
        let h = try ProcessHarness(workers: 1, provider: LocalProvider(initBlocks: 1, maxBlocks: 1, workerInit: setup))
        defer { h.dfk.shutdown(); try? FileManager.default.removeItem(atPath: h.folder) }
        let error = try #require(throws: TaskError.self) { try h.python("add")(1, 2).result(timeout: .seconds(60)) }
        #expect(error.description.contains("cannot activate the environment"), "\(error)")
    }
}

@Suite("Shared places")
struct SharedPlaceTests {
    /// The SSH socket folder is used only when it is this user's and no one else may write to it;
    /// otherwise a private one is made. (A world-writable or foreign `/tmp/sprig-ssh-<uid>` was used.)
    @Test func aSocketFolderOthersCanWriteIsNotUsed() throws {
        let parent = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let shared = parent + "/sprig-ssh-test"
        #expect(SSHChannel.privateControlFolder(shared: shared, runtime: nil) == shared)  // made, 0700
        var info = stat()
        stat(shared, &info)
        #expect(info.st_mode & 0o777 == 0o700 && info.st_uid == getuid())

        chmod(shared, 0o777)
        let instead = SSHChannel.privateControlFolder(shared: shared, runtime: nil)
        #expect(instead != shared)
        stat(instead, &info)
        #expect(info.st_mode & 0o777 == 0o700 && info.st_uid == getuid())
        try? FileManager.default.removeItem(atPath: instead)

        let runtime = parent + "/run"
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        #expect(SSHChannel.privateControlFolder(shared: shared, runtime: runtime) == runtime + "/sprig-ssh")

        if getuid() == 0 {  // as root the test can make the folder another user's
            let foreign = parent + "/foreign"
            mkdir(foreign, 0o700)
            chown(foreign, 65534, 65534)
            #expect(SSHChannel.privateControlFolder(shared: foreign, runtime: runtime) == runtime + "/sprig-ssh")
        }
    }
}

@Suite("A slow task does not stall its block", .serialized, .timeLimit(.minutes(2)))
struct StallTests {
    /// Short tasks submitted after a long one on a two-worker block all finish while it runs:
    /// none waits behind it. (Tasks queued at the busy worker waited for it: ~310 of 3,000 finished.)
    @Test func shortTasksDoNotWaitBehindALongOne() throws {
        let h = try ProcessHarness(workers: 2)
        defer { h.close() }
        #expect(h.waitForWorkers(2))
        h.rememberProcesses()
        _ = try (0..<20).map { try h.python("add")($0, 0) }.map { try $0.result() }  // tasks are known to be short
        let slow = try h.python("sleep_then")(4.0, "slow")
        let quick = try (0..<300).map { try h.python("add")($0, 1) }
        for (index, future) in quick.enumerated() {
            #expect(try future.result(timeout: .seconds(30)).decode(Int.self) == index + 1)
        }
        #expect(!slow.isDone, "a short task waited for the long one")
        #expect(try slow.result(timeout: .seconds(30)).decode(String.self) == "slow")
    }
}

extension StallTests {
    /// A worker stopped with SIGSTOP does not idle its neighbour: tasks keep completing while it is
    /// stopped. (Zero completions for as long as it was stopped, 4 runs of 4.)
    @Test func aStoppedWorkerDoesNotIdleItsNeighbour() throws {
        let h = try ProcessHarness(workers: 2)
        defer { h.close() }
        #expect(h.waitForWorkers(2))
        h.rememberProcesses()
        _ = try (0..<50).map { _ in try h.python("sleep_then")(0.002, 0) }.map { try $0.result() }
        let worker = try #require(h.status.processIDs.dropFirst().first)
        kill(worker, SIGSTOP)
        defer { kill(worker, SIGCONT) }
        let during = try (0..<400).map { try h.python("sleep_then")(0.002, $0) }
        // While it stays stopped, the other worker does nearly all of them.
        #expect(eventually(timeout: .seconds(30)) { during.filter(\.isDone).count >= 390 },
                "\(during.filter(\.isDone).count) of 400 done with one worker stopped")
        kill(worker, SIGCONT)
        for future in during { _ = try? future.result(timeout: .seconds(30)) }
    }
}
