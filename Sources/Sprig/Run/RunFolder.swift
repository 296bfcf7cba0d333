import Foundation

/// The folder of one run: `<base>/NNN`, the next number after the highest existing one (Parsl's
/// `runinfo/000`, `runinfo/001`, …). Everything a run writes goes under it.
///
/// Race-safe: the folder is claimed with `mkdir`, which fails for a name another kernel (or
/// process) claimed first; the next number is then tried.
enum RunFolder {
    /// Creates the base folder if needed and claims the next numbered folder in it.
    /// - Returns: the claimed folder's path, `base` joined with the three-digit number.
    /// - Throws: ``ConfigError`` naming the folder when it cannot be created.
    static func claim(base: String) throws(ConfigError) -> String {
        do {
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        } catch {
            throw ConfigError(message: "cannot create the run directory \(base): \(error.localizedDescription)")
        }
        var number = (highestNumber(in: base) ?? -1) + 1
        for _ in 0..<10_000 {
            let path = (base as NSString).appendingPathComponent(String(format: "%03d", number))
            if mkdir(path, 0o755) == 0 { return path }
            let code = errno
            guard code == EEXIST else {
                throw ConfigError(message: "cannot create the run folder \(path): \(String(cString: strerror(code)))")
            }
            number = max(number + 1, (highestNumber(in: base) ?? -1) + 1)
        }
        throw ConfigError(message: "cannot claim a run folder in \(base): too many runs at once")
    }

    /// The highest number among the folder's entries whose names are all digits.
    static func highestNumber(in base: String) -> Int? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        return names.compactMap { name in name.allSatisfy(\.isASCII) && name.allSatisfy(\.isNumber) ? Int(name) : nil }.max()
    }
}
