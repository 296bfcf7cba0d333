import Foundation
import PythonBridge
import Testing

@Suite("Choosing the interpreter", .timeLimit(.minutes(2)))
struct InterpreterChoiceTests {
    private let linked = "python\(Python.linkedVersion.major).\(Python.linkedVersion.minor)"

    @Test func explicitSettingWinsThenSprigPythonThenVirtualEnv() throws {
        let venv = try FakeVenv(version: "\(Python.linkedVersion.major).\(Python.linkedVersion.minor).9")
        defer { venv.remove() }
        let other = try FakeVenv(version: "\(Python.linkedVersion.major).\(Python.linkedVersion.minor).1")
        defer { other.remove() }
        let environment = ["SPRIG_PYTHON": other.python, "VIRTUAL_ENV": venv.folder]
        #expect(try Python.resolveExecutable(explicit: "/usr/bin/\(linked)", environment: environment) == ("/usr/bin/\(linked)", "configuration"))
        #expect(try Python.resolveExecutable(explicit: nil, environment: environment) == (other.python, "SPRIG_PYTHON"))
        #expect(try Python.resolveExecutable(explicit: nil, environment: ["VIRTUAL_ENV": venv.folder]) == (venv.python, "VIRTUAL_ENV"))
        #expect(try Python.resolveExecutable(explicit: nil, environment: [:]).source == "libpython")
    }

    @Test func aMissingInterpreterIsNamed() throws {
        let error = try #require(throws: PythonError.self) {
            try Python.resolveExecutable(explicit: nil, environment: ["SPRIG_PYTHON": "/nowhere/python"])
        }
        #expect(error.message.contains("/nowhere/python") && error.message.contains("SPRIG_PYTHON"))
    }

    @Test func noLinkedInterpreterNamesEveryFolderSearched() throws {
        let folders = (1...3).map { FileManager.default.temporaryDirectory.appendingPathComponent("sprig-nopython-\($0)-\(UUID().uuidString)").path }
        let error = try #require(throws: PythonError.self) {
            try Python.resolveExecutable(explicit: nil, environment: [:], folders: folders)
        }
        for folder in folders { #expect(error.message.contains(folder), "\(error.message)") }
        #expect(error.message.contains(linked) && error.message.contains("SPRIG_PYTHON"))
        #expect(Python.libpythonFolders == ["/usr/bin", "/usr/local/bin", "/bin"])
    }

    @Test func aVenvOfAnotherPythonVersionIsRefused() throws {
        let venv = try FakeVenv(version: "3.9.2")
        defer { venv.remove() }
        let error = try #require(throws: PythonError.self) {
            try Python.resolveExecutable(explicit: nil, environment: ["VIRTUAL_ENV": venv.folder])
        }
        #expect(error.message.contains("3.9") && error.message.contains("venv"))
    }

    @Test func aRealVenvIsUsedByTheEmbeddedInterpreter() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-venv-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try run("/usr/bin/\(linked)", ["-m", "venv", "--without-pip", folder], environment: [:])
        try #require(made.status == 0, "venv creation failed: \(made.output)")
        let sitePackages = "\(folder)/lib/\(linked)/site-packages"
        try "MARK = 'from the venv'\n".write(toFile: "\(sitePackages)/sprig_venv_marker.py", atomically: true, encoding: .utf8)
        let probe = try run(try helperBinary(), ["python-info", "sprig_venv_marker"], environment: ["VIRTUAL_ENV": folder])
        try #require(probe.status == 0, "python-info failed: \(probe.output)")
        #expect(probe.output.contains("executable=\(folder)/bin/python\n"))
        #expect(probe.output.contains("source=VIRTUAL_ENV\n"))
        #expect(probe.output.contains("prefix=\(folder)\n"))
        #expect(probe.output.contains("import=ok\n"))
    }
}

/// A folder shaped like a venv: bin/python (a link to the real interpreter) and a pyvenv.cfg.
struct FakeVenv {
    let folder: String
    var python: String { "\(folder)/bin/python" }

    init(version: String) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-fakevenv-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(folder)/bin", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(folder)/bin/python",
                                                   withDestinationPath: "/usr/bin/python\(Python.linkedVersion.major).\(Python.linkedVersion.minor)")
        try "home = /usr/bin\ninclude-system-site-packages = false\nversion = \(version)\n"
            .write(toFile: "\(folder)/pyvenv.cfg", atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }
}

/// The `sprig-bench` binary built beside the tests.
func helperBinary() throws -> String {
    let testBinary = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).standardizedFileURL
    var folder = testBinary.deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = folder.appendingPathComponent("sprig-bench").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        folder.deleteLastPathComponent()
    }
    let fromSources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../.build/debug/sprig-bench").standardizedFileURL.path
    guard FileManager.default.isExecutableFile(atPath: fromSources) else {
        throw PythonError(kind: .initialization, message: "sprig-bench is not built; run swift build first")
    }
    return fromSources
}

/// Runs a program to completion, with `environment` added to this process's (minus the venv variables).
func run(_ program: String, _ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["VIRTUAL_ENV"] = nil
    env["SPRIG_PYTHON"] = nil
    env.merge(environment) { $1 }
    process.environment = env
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
