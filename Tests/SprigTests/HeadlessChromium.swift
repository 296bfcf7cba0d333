import Foundation
import Testing

/// Debian's headless Chromium (installed by scripts/setup), run bounded in time with its own
/// scratch profile and HOME, and checked to leave no process behind.
enum HeadlessChromium {
    static let program = "/usr/bin/chromium"

    /// Runs Chromium headless with `arguments` (after the usual headless flags) and returns its
    /// exit status and output. `timeout(1)` ends its whole process group past `seconds`; after it
    /// returns, every process that names the scratch folder (all of Chromium's, crash handler
    /// included: they run with it as HOME) must be gone within 10 s, or they are killed and the
    /// test fails.
    static func run(_ arguments: [String], seconds: Int = 60) throws -> (status: Int32, stdout: String, stderr: String) {
        try #require(FileManager.default.isExecutableFile(atPath: program),
                     "chromium is not installed at \(program): run scripts/setup (it installs Debian's chromium)")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-chromium-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                     "--user-data-dir=\(scratch)/profile"]
        let result = try runBounded("/usr/bin/timeout", ["--kill-after=5", "\(seconds)", program] + flags + arguments,
                                    timeout: .seconds(seconds + 15),
                                    environment: ["HOME": scratch, "XDG_CONFIG_HOME": scratch + "/config", "XDG_CACHE_HOME": scratch + "/cache"])
        let gone = eventually(timeout: .seconds(10)) { processes(mentioning: scratch).isEmpty }
        if !gone {
            let left = processes(mentioning: scratch)
            for pid in left { kill(pid, SIGKILL) }
            Issue.record("chromium left \(left.count) processes behind (killed now): \(left)")
        }
        try #require(result.status != 124 && result.status != 137, "chromium did not finish within \(seconds) s:\n\(result.stderr.suffix(2000))")
        return result
    }

    /// Processes (other than this one) whose command line contains `text`.
    static func processes(mentioning text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard pid != getpid(), let bytes = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !bytes.isEmpty else { return false }
            return String(decoding: bytes.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(text) && processExists(pid)
        }
    }
}
