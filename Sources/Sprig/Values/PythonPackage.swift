import Foundation

/// Sprig's Python package (`python/sprig`), as this build carries it.
///
/// The build embeds the package's files (the `EmbedPython` plugin); the first use in a process
/// unpacks them into a private cache folder, `$XDG_CACHE_HOME/sprig/python-<digest>` (else
/// `~/.cache/sprig/…`, else `$TMPDIR/sprig-<uid>/…`), owned by this user and mode 0700, and checks
/// an existing folder file by file against the embedded bytes, so a stale or edited copy is never
/// run. `$SPRIG_PYTHON_PATH` overrides it (a folder holding `sprig/`), for working on the Python side.
enum PythonPackage {
    /// The folder holding `sprig/`, for `sys.path` and workers' `PYTHONPATH`.
    static let root: String = {
        if let explicit = ProcessInfo.processInfo.environment["SPRIG_PYTHON_PATH"], !explicit.isEmpty { return explicit }
        return (try? install()) ?? fallback
    }()

    /// Where the files would be if no cache folder can be written: the checkout this was built from.
    private static var fallback: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }  // Values/ Sprig/ Sources/ → the package
        return url.appendingPathComponent("python").path
    }

    /// The embedded files: relative path ("sprig/api.py") and bytes, in path order.
    static func files() throws -> [(path: String, bytes: [UInt8])] {
        guard let data = Data(base64Encoded: EmbeddedPython.archive) else { throw InstallError("the embedded archive is not base64") }
        let bytes = [UInt8](data)
        var files: [(String, [UInt8])] = []
        var index = 0
        while index < bytes.count {
            guard let nul = bytes[index...].firstIndex(of: 0), nul + 9 <= bytes.count else { throw InstallError("the embedded archive is truncated") }
            let path = String(decoding: bytes[index..<nul], as: UTF8.self)
            var length: UInt64 = 0
            for (shift, byte) in bytes[(nul + 1)..<(nul + 9)].enumerated() { length |= UInt64(byte) << (8 * UInt64(shift)) }
            let start = nul + 9, end = start + Int(length)
            guard end <= bytes.count else { throw InstallError("the embedded archive is truncated at \(path)") }
            files.append((path, Array(bytes[start..<end])))
            index = end
        }
        return files
    }

    private static func install() throws -> String {
        let files = try files()
        let name = "python-\(EmbeddedPython.digest)"
        var lastError: (any Error)?
        for base in cacheBases() {
            do {
                try makePrivateFolder(base)
                let target = base + "/" + name
                if try holds(files, at: target) { return target }
                let temporary = base + "/.\(name)-\(getpid())-\(UInt32.random(in: 0 ... .max))"
                try write(files, to: temporary)
                if rename(temporary, target) != 0 {
                    // Another process got there first, or a damaged copy is in the way.
                    try? FileManager.default.removeItem(atPath: target + ".old")
                    if (try? holds(files, at: target)) != true {
                        _ = rename(target, target + ".old")
                        guard rename(temporary, target) == 0 else { throw InstallError("cannot move \(temporary) to \(target)") }
                        try? FileManager.default.removeItem(atPath: target + ".old")
                    } else {
                        try? FileManager.default.removeItem(atPath: temporary)
                    }
                }
                return target
            } catch {
                lastError = error
            }
        }
        throw lastError ?? InstallError("no cache folder could be written")
    }

    private static func cacheBases() -> [String] {
        let environment = ProcessInfo.processInfo.environment
        var bases: [String] = []
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { bases.append(xdg + "/sprig") }
        if let home = environment["HOME"], home.hasPrefix("/") { bases.append(home + "/.cache/sprig") }
        bases.append((NSTemporaryDirectory() as NSString).appendingPathComponent("sprig-\(getuid())"))
        return bases
    }

    /// Creates `folder` (and its parents) if needed; refuses one that another user owns or that
    /// others may write to.
    private static func makePrivateFolder(_ folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var info = stat()
        guard lstat(folder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { throw InstallError("\(folder) is not a folder") }
        guard info.st_uid == getuid(), info.st_mode & 0o022 == 0 else {
            throw InstallError("\(folder) is owned by another user or writable by others")
        }
    }

    /// Whether `folder` holds exactly these bytes for every file (extra files, such as `__pycache__`, are fine).
    private static func holds(_ files: [(path: String, bytes: [UInt8])], at folder: String) throws -> Bool {
        guard FileManager.default.fileExists(atPath: folder) else { return false }
        for file in files {
            guard let data = FileManager.default.contents(atPath: folder + "/" + file.path), data.elementsEqual(file.bytes) else { return false }
        }
        return true
    }

    private static func write(_ files: [(path: String, bytes: [UInt8])], to folder: String) throws {
        for file in files {
            let path = folder + "/" + file.path
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            guard FileManager.default.createFile(atPath: path, contents: Data(file.bytes), attributes: [.posixPermissions: 0o600]) else {
                throw InstallError("cannot write \(path)")
            }
        }
    }

    struct InstallError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
