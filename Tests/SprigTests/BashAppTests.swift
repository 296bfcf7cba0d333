import Foundation
import Sprig
import Testing

@Suite("Bash apps", .timeLimit(.minutes(1)))
struct BashAppTests {
    @Test func successIsZeroAndExitCodesAreKept() throws {
        let h = try Harness()
        defer { h.close() }
        let exit = try h.bash("exit_command")
        #expect(try exit(0).result() == 0)
        let fifteen = try #require(throws: TaskError.self) { try exit(15).result() }
        #expect(fifteen.exitCode == 15)
        #expect(fifteen.description.contains("unix exit code 15"))
        let unknown = try h.dfk.bashApp(name: "unknown") { () in "no_such_command_anywhere_42" }
        #expect(try #require(throws: TaskError.self) { try unknown().result() }.exitCode == 127)
    }

    @Test func commandsSeeTheEnvironmentAsItIsWhenTheyStart() throws {
        let h = try Harness()
        defer { h.close() }
        let show = try h.dfk.bashApp(name: "show_variable") { () in "printf %s \"$SPRIG_TEST_BASH_VARIABLE\"" }
        let name = "SPRIG_TEST_BASH_VARIABLE"
        let value = "set-after-start-\(UUID().uuidString)"
        setenv(name, value, 1)
        defer { unsetenv(name) }
        _ = try show(stdout: .truncate(h.path("first.txt"))).result()
        #expect(try h.read("first.txt") == value)
        setenv(name, "changed", 1)
        _ = try show(stdout: .truncate(h.path("second.txt"))).result()
        #expect(try h.read("second.txt") == "changed")
    }

    @Test func stdoutAppendsByDefaultAndTruncatesWithModeW() throws {
        let h = try Harness()
        defer { h.close() }
        let echo = try h.bash("echo_command")
        _ = try echo("one", stdout: h.path("out.txt")).result()
        _ = try echo("two", stdout: h.path("out.txt")).result()
        #expect(try h.read("out.txt") == "one\ntwo\n")
        _ = try echo("three", stdout: Tuple(h.path("out.txt"), "w")).result()
        #expect(try h.read("out.txt") == "three\n")
        let swiftEcho = try h.dfk.bashApp(name: "swift_echo") { (word: String) in "echo \(word); echo oops >&2" }
        _ = try swiftEcho("four", stdout: .truncate(h.path("out.txt")), stderr: Redirect(h.path("sub/err.txt"))).result()
        #expect(try h.read("out.txt") == "four\n")
        #expect(try h.read("sub/err.txt") == "oops\n")
    }

    @Test func automaticRedirectsGetTheirPathPerTaskThroughDynamicCalls() throws {
        let h = try Harness()
        defer { h.close() }
        let echo = try h.bash("echo_command")
        let calls = [echo("first", stdout: Redirect.automatic), echo("second", stdout: Redirect.automatic, stderr: Redirect.automatic)]
        for (call, word) in zip(calls, ["first", "second"]) {
            #expect(try call.result() == 0)
            let path = Redirect.automaticPath(task: call.taskID, app: echo.name, label: nil, runDirectory: h.dfk.runFolder, stream: "stdout")
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "\(word)\n")
        }
        let stderr = Redirect.automaticPath(task: calls[1].taskID, app: echo.name, label: nil, runDirectory: h.dfk.runFolder, stream: "stderr")
        #expect(FileManager.default.fileExists(atPath: stderr))
    }

    @Test func aBadRedirectionTargetIsAClearError() throws {
        let h = try Harness()
        defer { h.close() }
        let echo = try h.bash("echo_command")
        let error = try #require(throws: TaskError.self) { try echo("x", stdout: "/dev/null/cannot/be").result() }
        guard case .badStdStream(let path, _) = error.reason else { Issue.record("expected badStdStream, got \(error)"); return }
        #expect(path == "/dev/null/cannot/be")
        let mode = try #require(throws: TaskError.self) { try echo("x", stdout: Tuple(h.path("o"), "r")).result() }
        #expect(mode.description.contains("mode"))
    }

    @Test func aCommandFunctionMustReturnAString() throws {
        let h = try Harness()
        defer { h.close() }
        let error = try #require(throws: TaskError.self) { try h.bash("not_a_command")().result() }
        guard case .badCommand(let detail) = error.reason else { Issue.record("expected badCommand, got \(error)"); return }
        #expect(detail.contains("int"))
        let raised = try #require(throws: TaskError.self) { try h.bash("bad_command_raises")().result() }
        #expect(raised.pythonError?.typeName == "KeyError")
    }

    @Test func declaredOutputsMustExist() throws {
        let h = try Harness()
        defer { h.close() }
        let written = try h.bash("write_command")(outputs: [File(h.path("w.txt"))])
        #expect(try written.result() == 0)
        #expect(try written.outputs[0].result().path == h.path("w.txt"))
        let missing = try #require(throws: TaskError.self) { try h.bash("claim_outputs_command")(outputs: [File(h.path("none.txt"))]).result() }
        guard case .missingOutputs(let files) = missing.reason else { Issue.record("expected missingOutputs"); return }
        #expect(files == [File(h.path("none.txt"))])
    }

    @Test func aWalltimeKillsTheCommandAndEverythingItStarted() throws {
        let h = try Harness()
        defer { h.close() }
        let pidFile = h.path("pids")
        let slow = try h.dfk.bashApp(name: "slow", options: AppOptions(walltime: .milliseconds(300))) { (file: String) in
            "sleep 60 & echo $! > \(file).child; echo $$ > \(file); wait"
        }
        let error = try #require(throws: TaskError.self) { try slow(pidFile).result() }
        #expect(error.isTimeout)
        let shell = try #require(Int32(h.read("pids").trimmingCharacters(in: .whitespacesAndNewlines)))
        let child = try #require(Int32(h.read("pids.child").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(eventually { !processExists(shell) && !processExists(child) })
    }
}
