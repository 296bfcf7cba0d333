import Foundation
import Testing

/// A built `sprig` copied anywhere runs scripts: the Python side travels inside the binary and is
/// unpacked into a private cache, checked against the embedded bytes at every start.
@Suite("An installed sprig", .serialized, .timeLimit(.minutes(3)))
struct InstallTests {
    /// Copies the built `sprig` into a fresh folder and runs it from another one, with a fresh HOME
    /// and no Sprig variables in the environment.
    struct Installed {
        let bin: String, work: String, home: String

        init() throws {
            let top = try scratchFolder()
            bin = top + "/bin"; work = top + "/work"; home = top + "/home"
            for folder in [bin, work, home] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            try Self.copyExecutable(try builtBinary("sprig"), to: bin + "/sprig")
        }

        /// Copies with a close-on-exec descriptor: a process another test spawns meanwhile must not
        /// inherit the copy open for writing, or running it fails with "Text file busy".
        static func copyExecutable(_ source: String, to target: String) throws {
            let data = try Data(contentsOf: URL(fileURLWithPath: source))
            let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
            guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target]) }
            defer { close(fd) }
            try FileHandle(fileDescriptor: fd, closeOnDealloc: false).write(contentsOf: data)
        }

        func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: bin + "/sprig")
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: work)
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SPRIG_") && $0.key != "XDG_CACHE_HOME" }
            environment["HOME"] = home
            environment["PATH"] = bin + ":/usr/bin:/bin"
            process.environment = environment
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
            let ended = eventually(timeout: .seconds(60)) { !process.isRunning }
            if !ended { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            try #require(ended, "sprig \(arguments) did not end")
            return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
        }

        func remove() { try? FileManager.default.removeItem(atPath: (bin as NSString).deletingLastPathComponent) }
    }

    @Test func aCopiedBinaryRunsTheArticlesScriptsAwayFromTheCheckout() throws {
        let installed = try Installed()
        defer { installed.remove() }
        for script in ["multiply.py", "echo_hello.py", "htex_local.py"] {
            try FileManager.default.copyItem(atPath: "\(packageFolder)/Examples/parsl/\(script)", toPath: "\(installed.work)/\(script)")
        }
        #expect(try installed.run(["--version"]).stdout.hasPrefix("sprig "))
        let multiply = try installed.run(["run", "multiply.py"])
        #expect(multiply.status == 0 && multiply.stdout.hasSuffix("45\n"), "\(multiply.stderr)")
        let hello = try installed.run(["run", "echo_hello.py"])
        #expect(hello.status == 0 && hello.stdout.contains("Hello World!"), "\(hello.stderr)")
        let htex = try installed.run(["run", "htex_local.py"])
        #expect(htex.status == 0 && htex.stdout.hasPrefix("45\n"), "\(htex.stderr)")

        try "import sprig, parsl\nprint(sprig.__file__)\nprint(parsl.__file__)\n".write(toFile: installed.work + "/where.py", atomically: true, encoding: .utf8)
        let where_ = try installed.run(["run", "where.py"])
        #expect(where_.status == 0, "\(where_.stderr)")
        let paths = where_.stdout.split(separator: "\n").map(String.init)
        #expect(paths.count == 2 && paths.allSatisfy { $0.hasPrefix(installed.home + "/.cache/sprig/python-") && !$0.hasPrefix(packageFolder) },
                "\(paths)")
    }

    @Test func anEditedCacheIsReplacedBeforeItRuns() throws {
        let installed = try Installed()
        defer { installed.remove() }
        try "import sprig.protocol as p\nprint(p.__file__)\n".write(toFile: installed.work + "/protocol.py", atomically: true, encoding: .utf8)
        let first = try installed.run(["run", "protocol.py"])
        let cached = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let original = try String(contentsOfFile: cached, encoding: .utf8)
        // The same size, other contents: a size check would not see it.
        let edited = String(original.dropLast(2)) + "#\n"
        try edited.write(toFile: cached, atomically: false, encoding: .utf8)
        let second = try installed.run(["run", "protocol.py"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try String(contentsOfFile: second.stdout.trimmingCharacters(in: .whitespacesAndNewlines), encoding: .utf8) == original)
    }
}
